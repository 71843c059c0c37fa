#include "daemon/http/http_server.hpp"

#include <array>
#include <chrono>
#include <exception>
#include <iterator>
#include <list>
#include <map>
#include <span>
#include <tuple>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>

#include "common/ops/log.hpp"
#include "common/ops/metrics.hpp"
#include "daemon/http/body_rate_guard.hpp"
#include "daemon/http/body_stream.hpp"
#include "daemon/http/chunked_decoder.hpp"
#include "daemon/http/request_framing.hpp"
#include "daemon/http/response_head.hpp"
#include "daemon/http/router.hpp"
#include "daemon/http/upload_sink.hpp"
#include "daemon/serve/loop_failure.hpp"
#include "daemon/serve/server_context.hpp"
#include "daemon/serve/spool_thread.hpp"

namespace profiled {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;
using namespace net::experimental::awaitable_operators;

namespace {
constexpr auto use_tuple = net::as_tuple(net::use_awaitable);
// Upload bodies are read from the socket in pieces of up to this size; other bodies in smaller ones.
constexpr std::size_t upload_read_bytes = 1024 * 1024;
constexpr std::size_t body_read_bytes = 64 * 1024;
// Connections over --max-connections that are being answered 503 at once; past this they are just closed.
constexpr std::size_t max_turned_away = 64;

// One open connection; busy while a request is being read or answered.
struct session_state {
    beast::tcp_stream* stream = nullptr;
    bool busy = false;
};

// True for errors that only mean the peer went away or we closed the socket. A request cut short
// (partial_message) is not one of them: a client that half-closes after a short body still reads
// the 400 it is due.
bool is_disconnect(const boost::system::error_code& ec)
{
    return ec == http::error::end_of_stream || ec == net::error::eof || ec == net::error::operation_aborted ||
           ec == net::error::connection_reset || ec == beast::error::timeout || ec == net::error::broken_pipe ||
           ec == net::error::bad_descriptor;
}

// Copies a Beast request header into the handler-facing request.
http_request to_request(const http::request_header<>& h, const std::string& remote)
{
    http_request req;
    req.method = std::string(h.method_string());
    req.target = origin_form(h.target());
    auto q = req.target.find('?');
    req.path = req.target.substr(0, q);
    if (q != std::string::npos)
        req.query = req.target.substr(q + 1);
    req.headers.reserve(static_cast<std::size_t>(std::distance(h.begin(), h.end())));
    for (const auto& field : h) {
        std::string name(field.name_string());
        for (auto& c : name)
            c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        req.headers.emplace_back(std::move(name), std::string(field.value()));
    }
    req.remote = remote;
    return req;
}

// The method as a metric label: one of the methods HTTP defines (RFC 9110, and PATCH), else "other".
std::string_view method_label(std::string_view method)
{
    static constexpr std::string_view known[] = {"GET",     "HEAD",  "POST",  "PUT",  "PATCH",
                                                 "DELETE",  "OPTIONS", "TRACE", "CONNECT"};
    for (auto k : known)
        if (k == method)
            return k;
    return "other";
}

// The Beast response for a handler's response.
// Writes the response's head and (unless head_only) its body in one gathered write; whether it all went out.
net::awaitable<bool> write_response(beast::tcp_stream& stream, const http_response& r, unsigned version,
                                    bool keep_alive, bool head_only)
{
    std::string head = response_head(r, version, keep_alive);
    std::array<net::const_buffer, 2> pieces{net::buffer(head), net::buffer(r.body)};
    auto [ec, n] = co_await net::async_write(stream, head_only ? std::span(pieces).first(1) : std::span(pieces),
                                             use_tuple);
    co_return !ec;
}

// How reading a request body ended: complete, refused with an answer, or the client went away.
struct body_outcome {
    enum class kind { complete, refused, gone } what = kind::complete;
    http_response response; // when refused
};

// Takes each piece of a body as it is decoded, and is done with it when the awaitable completes; an error refuses
// the body.
using body_consumer = std::function<net::awaitable<std::optional<api_error>>(std::string_view)>;

// A refusal that also ends the connection (the rest of the body will not be read).
body_outcome refuse_body(const api_error& e)
{
    body_outcome out{body_outcome::kind::refused, error_response(e)};
    out.response.close = true;
    return out;
}

// Takes an upload's sink so that it is destroyed on the spool thread however the request ends: its destructor may
// remove a .part file.
std::shared_ptr<upload_sink> owned_by_spool_thread(std::unique_ptr<upload_sink> sink, spool_thread& spooler)
{
    return {sink.release(), [&spooler](upload_sink* s) {
                try {
                    spooler.post([s] { delete s; });
                } catch (...) {
                    delete s; // no memory to queue it: here rather than leaked
                }
            }};
}

// Lets go of an upload's sink and waits until the spool thread has destroyed it, so no .part file of it is left.
net::awaitable<void> close_sink(std::shared_ptr<upload_sink>& sink, spool_thread& spooler)
{
    sink.reset();
    // The spool thread runs its jobs in order: once this one has run, so has the sink's destruction.
    auto flushed = on_spool_thread(spooler, [] { return true; });
    co_await std::move(flushed);
}

} // namespace

struct http_server::impl {
    impl(net::io_context& io_, router& routes_, server_context& ctx_) : io(io_), routes(routes_), ctx(ctx_), acceptor(io_)
    {
    }

    net::io_context& io;
    router& routes;
    server_context& ctx;
    tcp::acceptor acceptor;
    bool accepting = true;
    std::list<session_state> sessions;
    std::size_t in_flight = 0;
    std::size_t turned_away = 0;
    // The request metrics' label sets, made once per route, method and status (a bounded set: the routes, the
    // methods HTTP defines and the statuses profiled answers with).
    struct request_labels {
        std::string counted; // route, method and code, for profiled_http_requests_total
        std::string timed;   // route, for profiled_http_request_duration_seconds
    };
    std::map<std::tuple<const void*, std::string_view, int>, request_labels> labels_of;

    // Accepts connections until stop_accepting(); over --max-connections they are answered 503 and closed.
    net::awaitable<void> accept_loop();
    // Answers a connection over the cap with 503 and closes it.
    net::awaitable<void> turn_away(tcp::socket socket);
    // Reads requests off one connection and answers them, until close, error or shutdown.
    net::awaitable<void> run_session(tcp::socket socket);
    // Reads, routes and answers one request whose header is read; false when the connection must end.
    net::awaitable<bool> serve_request(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                                       http::request_parser<http::empty_body>& parser, const std::string& remote);
    // Reads a body framed by Content-Length or chunked encoding into consume, within limit bytes: an upload
    // at the minimum data rate, any other body whole within the read timeout. The bytes that came with the
    // header are taken from buffer first.
    net::awaitable<body_outcome> read_body(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                                           const body_framing& framing, std::uint64_t limit, bool upload,
                                           const api_error& too_large, const body_consumer& consume);
    // Answers "Expect: 100-continue" so clients such as curl send the body without waiting.
    net::awaitable<void> send_continue(beast::tcp_stream& stream, const http::request_header<>& header);
    // Metrics, the access log line, and an http.error line for every 5xx.
    void record_request(const http_request& request, const route_match& match, const http_response& response,
                        std::chrono::steady_clock::time_point started);
    // Writes a streamed response: its head, each piece its stream gives as one chunk once the socket took the one
    // before, then the last chunk with the stream's trailers; false when the connection must end (it broke, the
    // client took no data for the stream's write timeout, the stream failed: the body then lacks its last chunk,
    // which tells the client it was cut, or the response is HTTP/1.0's, ended by closing).
    net::awaitable<bool> write_streamed(beast::tcp_stream& stream, http_response&& r, unsigned version, bool keep_alive,
                                        bool head_only);
    // Writes one response (its header only for HEAD); false when the connection broke.
    net::awaitable<bool> write(beast::tcp_stream& stream, http_response&& r, unsigned version, bool keep_alive,
                               bool head_only = false);
};

net::awaitable<void> http_server::impl::accept_loop()
{
    while (accepting) {
        auto [ec, socket] = co_await acceptor.async_accept(use_tuple);
        if (ec) {
            if (ec == net::error::operation_aborted || !accepting)
                break;
            log_event(log_level::warn, "http.accept_failed", ec.message());
            // Out of descriptors and similar: back off instead of spinning.
            net::steady_timer pause(io, 50ms);
            co_await pause.async_wait(use_tuple);
            continue;
        }
        if (sessions.size() >= ctx.settings.max_connections) {
            daemon_metrics().add("profiled_http_connections_refused_total");
            if (turned_away < max_turned_away) {
                net::co_spawn(io, turn_away(std::move(socket)), net::detached);
            } else {
                boost::system::error_code ignored;
                socket.close(ignored);
            }
            continue;
        }
        net::co_spawn(io, run_session(std::move(socket)), [](std::exception_ptr e) {
            // run_session catches what a request can throw; anything else is logged and ends only this session.
            if (e) {
                try {
                    std::rethrow_exception(e);
                } catch (const std::exception& ex) {
                    log_event(log_level::error, "http.session_failed", ex.what());
                }
            }
        });
    }
}

net::awaitable<void> http_server::impl::turn_away(tcp::socket socket)
{
    ++turned_away;
    beast::tcp_stream stream(std::move(socket));
    http_response refused = error_response(
        {errc::unavailable, "too_many_connections",
         fmt::format("the server has {} connections open (--max-connections); retry shortly",
                     ctx.settings.max_connections),
         {}});
    refused.headers.emplace_back("Retry-After", "1");
    stream.expires_after(2s);
    co_await write_response(stream, refused, 11, false, false);
    boost::system::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    // A moment for the request the client already sent, so closing does not reset the connection first.
    char sink[4096];
    co_await stream.async_read_some(net::buffer(sink), use_tuple);
    stream.close();
    --turned_away;
}

net::awaitable<body_outcome> http_server::impl::read_body(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                                                          const body_framing& framing, std::uint64_t limit,
                                                          bool upload, const api_error& too_large,
                                                          const body_consumer& consume)
{
    const auto& s = ctx.settings;
    if (!framing.chunked && framing.content_length > limit)
        co_return refuse_body(too_large);
    std::optional<chunked_decoder> chunks;
    if (framing.chunked)
        chunks.emplace(s.max_header_bytes, limit);
    std::uint64_t remaining = framing.content_length;
    bool finished = !framing.has_body();
    std::string decoded;

    // Hands bytes to the decoder (or counts them off the Content-Length) and the body's data to consume;
    // used says how many of them belonged to the body.
    auto take = [&](std::string_view bytes, std::size_t& used) -> net::awaitable<std::optional<api_error>> {
        if (!chunks) {
            used = static_cast<std::size_t>(std::min<std::uint64_t>(bytes.size(), remaining));
            remaining -= used;
            finished = remaining == 0;
            co_return co_await consume(bytes.substr(0, used));
        }
        decoded.clear();
        switch (chunks->feed(bytes, decoded, used)) {
        case chunked_decoder::status::more: break;
        case chunked_decoder::status::done: finished = true; break;
        case chunked_decoder::status::bad_framing:
            co_return bad_body("malformed_request", fmt::format("malformed chunked body: {}", chunks->reason()));
        case chunked_decoder::status::framing_limit:
            co_return api_error{errc::payload_too_large, "headers_too_large",
                                fmt::format("chunk extensions and trailers exceed {} bytes (--max-header-bytes)",
                                            s.max_header_bytes),
                                {}};
        case chunked_decoder::status::body_limit: co_return too_large;
        }
        if (decoded.empty())
            co_return std::nullopt;
        co_return co_await consume(decoded);
    };

    if (!finished && buffer.size() > 0) {
        std::size_t used = 0;
        auto data = buffer.data();
        auto refused = co_await take(std::string_view(static_cast<const char*>(data.data()), data.size()), used);
        if (refused)
            co_return refuse_body(*refused);
        buffer.consume(used);
    }
    if (finished)
        co_return body_outcome{};

    std::vector<char> piece(upload ? upload_read_bytes : body_read_bytes);
    const auto read_timeout = std::chrono::seconds(s.read_timeout_seconds);
    const auto window = std::chrono::seconds(s.upload_rate_window_seconds);
    auto last_byte = std::chrono::steady_clock::now();
    // An upload may take as long as it keeps up the minimum rate; a single request's body (at most
    // --max-body-bytes) must arrive whole within the read timeout.
    body_rate_guard rate(upload ? s.min_upload_rate : 0, window, last_byte);
    auto whole_by = upload ? std::chrono::steady_clock::time_point::max() : last_byte + read_timeout;
    net::steady_timer timer(io);
    // The timer below decides when a body is too slow: the stream's own timeout would close the socket
    // before the 408 could be written.
    stream.expires_never();
    while (!finished) {
        auto stalled_at = std::min(last_byte + read_timeout, whole_by);
        timer.expires_at(rate.enabled() ? std::min(stalled_at, rate.window_end()) : stalled_at);
        std::size_t want = chunks ? piece.size()
                                  : static_cast<std::size_t>(std::min<std::uint64_t>(piece.size(), remaining));
        auto got = co_await (stream.socket().async_read_some(net::buffer(piece.data(), want), use_tuple) ||
                             timer.async_wait(use_tuple));
        auto now = std::chrono::steady_clock::now();
        if (rate.too_slow(now))
            co_return refuse_body({errc::request_timeout, "body_too_slow",
                                   fmt::format("the request body arrived slower than {} bytes/s over {} s "
                                               "(--min-upload-rate, --upload-rate-window)",
                                               s.min_upload_rate, s.upload_rate_window_seconds),
                                   {}});
        if (got.index() == 1) {
            if (now >= stalled_at)
                co_return refuse_body(
                    {errc::request_timeout, "request_timeout",
                     upload ? fmt::format("no part of the upload arrived for {} s (--read-timeout)",
                                          s.read_timeout_seconds)
                            : fmt::format("the request body did not arrive within {} s (--read-timeout)",
                                          s.read_timeout_seconds),
                     {}});
            continue;
        }
        auto [ec, n] = std::get<0>(got);
        if (ec == net::error::eof) {
            // The client half-closed before the body's end; it may still read the answer.
            co_return refuse_body(bad_body(
                "malformed_request",
                chunks ? std::string("malformed HTTP body: the request ended before its last chunk")
                       : fmt::format("malformed HTTP body: the request ended {} bytes short of its Content-Length",
                                     remaining)));
        }
        if (ec)
            co_return body_outcome{body_outcome::kind::gone, {}}; // reset or closed: there is no one to answer
        rate.received(n);
        last_byte = now;
        std::size_t used = 0;
        auto refused = co_await take(std::string_view(piece.data(), n), used);
        if (refused)
            co_return refuse_body(*refused);
        if (used < n) {
            // A pipelined request after a chunked body: it is read from the buffer next.
            auto room = buffer.prepare(n - used);
            std::memcpy(room.data(), piece.data() + used, n - used);
            buffer.commit(n - used);
        }
    }
    co_return body_outcome{};
}

net::awaitable<void> http_server::impl::send_continue(beast::tcp_stream& stream, const http::request_header<>& header)
{
    if (!beast::iequals(header[http::field::expect], "100-continue"))
        co_return;
    http::response<http::empty_body> cont{http::status::continue_, header.version()};
    stream.expires_after(std::chrono::seconds(ctx.settings.read_timeout_seconds));
    co_await http::async_write(stream, cont, use_tuple);
}

void http_server::impl::record_request(const http_request& request, const route_match& match,
                                       const http_response& response, std::chrono::steady_clock::time_point started)
{
    // Unmatched paths share one label, and unknown methods another, so clients cannot blow up the metrics'
    // cardinality (a method is any token a client sends).
    std::string_view route = match.matched ? std::string_view(match.matched->pattern) : "unmatched";
    std::string_view method = method_label(request.method);
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    auto [it, fresh] = labels_of.try_emplace({match.matched, method, response.status});
    if (fresh) {
        std::string code = std::to_string(response.status);
        it->second = {metric_labels({{"route", route}, {"method", method}, {"code", code}}),
                      metric_labels({{"route", route}})};
    }
    auto& m = daemon_metrics();
    m.add("profiled_http_requests_total", it->second.counted);
    m.observe("profiled_http_request_duration_seconds", it->second.timed, seconds);
    if (response.status >= 500) {
        log_event(log_level::error, "http.error", "request failed on the server's side",
                  {{"route", route}, {"method", request.method}, {"status", response.status},
                   {"cause", response.body.substr(0, 300)}});
    }
    if (ctx.settings.access_log) {
        log_event(log_level::info, "http.request", "request answered",
                  {{"method", request.method}, {"route", route}, {"status", response.status},
                   {"duration_ms", seconds * 1000}, {"remote", request.remote},
                   {"bytes", response.body.size()}});
    }
}

net::awaitable<bool> http_server::impl::write(beast::tcp_stream& stream, http_response&& r, unsigned version,
                                              bool keep_alive, bool head_only)
{
    stream.expires_after(std::chrono::seconds(ctx.settings.read_timeout_seconds));
    // HEAD: the header GET would send, Content-Length included, and no body (RFC 9110 9.3.2).
    co_return co_await write_response(stream, r, version, keep_alive, head_only);
}

net::awaitable<bool> http_server::impl::write_streamed(beast::tcp_stream& stream, http_response&& r, unsigned version,
                                                       bool keep_alive, bool head_only)
{
    keep_alive = keep_alive && version != 10;
    std::string head = response_head(r, version, keep_alive);
    auto body = std::move(r.stream);
    stream.expires_after(body->write_timeout());
    auto [head_ec, head_n] = co_await net::async_write(stream, net::buffer(head), use_tuple);
    if (head_ec)
        co_return false;
    if (head_only)
        co_return keep_alive;
    const bool chunked = version != 10;
    for (;;) {
        std::optional<std::string> piece;
        bool failed = false;
        try {
            piece = co_await body->next();
        } catch (const std::exception& e) {
            log_event(log_level::error, "http.stream_failed", e.what());
            failed = true;
        }
        if (failed)
            co_return false; // without the last chunk: the client can tell the body is incomplete
        if (!piece)
            break;
        std::string size_line = fmt::format("{:x}\r\n", piece->size());
        std::array<net::const_buffer, 3> pieces{net::buffer(size_line), net::buffer(*piece), net::buffer("\r\n", 2)};
        stream.expires_after(body->write_timeout());
        boost::system::error_code ec;
        if (chunked)
            std::tie(ec, std::ignore) = co_await net::async_write(stream, pieces, use_tuple);
        else
            std::tie(ec, std::ignore) = co_await net::async_write(stream, net::buffer(*piece), use_tuple);
        if (ec) {
            if (ec == beast::error::timeout)
                log_event(log_level::warn, "http.stream_stalled",
                          "the client took no data for the write timeout: connection dropped",
                          {{"write_timeout_seconds", static_cast<std::int64_t>(body->write_timeout().count())}});
            co_return false;
        }
    }
    if (!chunked)
        co_return false;
    std::string last = "0\r\n";
    for (const auto& [name, value] : body->trailers())
        last.append(name).append(": ").append(value).append("\r\n");
    last.append("\r\n");
    stream.expires_after(body->write_timeout());
    auto [ec, n] = co_await net::async_write(stream, net::buffer(last), use_tuple);
    co_return !ec && keep_alive;
}

net::awaitable<bool> http_server::impl::serve_request(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                                                      http::request_parser<http::empty_body>& parser,
                                                      const std::string& remote)
{
    const auto& s = ctx.settings;
    auto request_started = std::chrono::steady_clock::now();
    const auto& header = parser.get();
    unsigned version = header.version();
    bool keep_alive = header.keep_alive();
    http_request request = to_request(header, remote);
    bool head_only = request.method == "HEAD";
    route_match match = routes.match(request.method, request.target);
    std::optional<std::uint64_t> content_length;
    if (auto length = parser.content_length())
        content_length = *length;
    auto framing = read_body_framing(request, version, content_length);
    http_response response;
    // An upload's sink and its key's upload slot, released before the answer goes out, so a refused
    // upload's spool file is gone by the time the client hears of it.
    opened_upload upload;

    if (!framing) {
        response = error_response(framing.error());
        response.close = true;
    } else if (match.error) {
        response = error_response(*match.error);
        if (!match.allow.empty())
            response.headers.emplace_back("Allow", match.allow);
        // The body was not read, so the connection cannot carry another request.
        response.close = framing->has_body();
    } else if (match.matched->options.upload) {
        upload = co_await routes.open_upload(match, request);
        if (upload.start.response) {
            response = std::move(*upload.start.response);
            response.close = framing->has_body();
        } else {
            co_await send_continue(stream, header);
            // The limit applies to the rows the sink keeps; the HTTP body may carry some multipart framing on top.
            api_error too_large{errc::payload_too_large, "upload_too_large",
                                fmt::format("upload exceeds the limit of {} bytes (--max-upload-bytes)",
                                            s.max_upload_bytes),
                                {}};
            auto sink = owned_by_spool_thread(std::move(upload.start.sink), ctx.spooler);
            // Each piece is parsed, hashed and appended on the spool thread while this session waits for it: one
            // piece in flight per upload, and the io thread serves the other connections meanwhile.
            body_consumer to_spool = [this, &to = *sink](std::string_view piece) {
                return on_spool_thread(ctx.spooler, [&to, piece] { return to.write(piece); });
            };
            auto body = co_await read_body(stream, buffer, *framing, s.max_upload_bytes + 64 * 1024, true, too_large,
                                           to_spool);
            if (body.what == body_outcome::kind::gone)
                co_return false;
            if (body.what == body_outcome::kind::refused)
                response = std::move(body.response);
            else
                response = co_await sink->finish();
            co_await close_sink(sink, ctx.spooler);
        }
        upload = {};
    } else {
        co_await send_continue(stream, header);
        api_error too_large{errc::payload_too_large, "body_too_large",
                            fmt::format("request body exceeds {} bytes (--max-body-bytes)", s.max_body_bytes), {}};
        body_consumer to_request = [&request](std::string_view piece) -> net::awaitable<std::optional<api_error>> {
            request.body.append(piece);
            co_return std::nullopt;
        };
        auto body = co_await read_body(stream, buffer, *framing, s.max_body_bytes, false, too_large, to_request);
        if (body.what == body_outcome::kind::gone)
            co_return false;
        if (body.what == body_outcome::kind::refused)
            response = std::move(body.response);
        else
            response = co_await routes.dispatch(match, request);
    }
    bool keep = keep_alive && !response.close && accepting;
    record_request(request, match, response, request_started);
    if (response.stream)
        co_return co_await write_streamed(stream, std::move(response), version, keep, head_only);
    co_return co_await write(stream, std::move(response), version, keep, head_only) && keep;
}

net::awaitable<void> http_server::impl::run_session(tcp::socket socket)
{
    std::string remote;
    {
        boost::system::error_code ec;
        auto ep = socket.remote_endpoint(ec);
        if (!ec)
            remote = fmt::format("{}:{}", ep.address().to_string(), ep.port());
    }
    beast::tcp_stream stream(std::move(socket));
    auto state = sessions.insert(sessions.end(), session_state{&stream, false});
    daemon_metrics().set("profiled_http_connections", {}, static_cast<double>(sessions.size()));
    beast::flat_buffer buffer;
    bool first = true;
    const auto& s = ctx.settings;

    while (accepting) {
        http::request_parser<http::empty_body> parser;
        // At most 65000 (settings): Beast throws on a single field over 64 KB, so the block must stay under it.
        parser.header_limit(s.max_header_bytes);
        // Bodies are read by read_body, with the route's limit.
        parser.body_limit(boost::none);
        // The first request gets the read timeout; later ones the keep-alive idle timeout.
        stream.expires_after(std::chrono::seconds(first ? s.read_timeout_seconds : s.idle_timeout_seconds));
        first = false;
        auto [ec, n] = co_await http::async_read_header(stream, buffer, parser, use_tuple);
        if (ec) {
            if (is_disconnect(ec))
                break;
            // Built in a named local: GCC 12 destroys temporaries inside a co_await expression twice.
            http_response refused =
                ec == http::error::header_limit
                    ? error_response({errc::payload_too_large, "headers_too_large",
                                      fmt::format("request headers exceed {} bytes (--max-header-bytes)",
                                                  s.max_header_bytes),
                                      {}})
                // Beast reports a Content-Length after a chunked Transfer-Encoding as a bad Content-Length.
                : ec == http::error::bad_transfer_encoding ||
                        (ec == http::error::bad_content_length && parser.get().count(http::field::transfer_encoding))
                    ? error_response({errc::bad_request, "unsupported_transfer_encoding",
                                      "Transfer-Encoding must be exactly \"chunked\", without a Content-Length", {}})
                    : error_response(bad_body("malformed_request", "malformed HTTP request: " + ec.message()));
            co_await write(stream, std::move(refused), 11, false);
            break;
        }
        state->busy = true;
        ++in_flight;
        bool more = false, failed = false;
        try {
            more = co_await serve_request(stream, buffer, parser, remote);
        } catch (const std::exception& e) {
            // Nothing one request does may end more than its own connection.
            log_event(log_level::error, "http.request_failed", e.what(), {{"remote", remote}});
            failed = true;
        }
        if (failed) {
            // Outside the handler: a coroutine cannot co_await inside a catch block.
            http_response answer = error_response(internal_error());
            co_await write(stream, std::move(answer), 11, false);
        }
        --in_flight;
        state->busy = false;
        if (!more)
            break;
    }
    boost::system::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    // Drain what the client is still sending (briefly) so closing does not reset the connection
    // before it has read an early error response such as a 413.
    stream.expires_after(2s);
    for (std::size_t drained = 0; drained < 8 * 1024 * 1024;) {
        char sink[16384];
        auto [ec, n] = co_await stream.async_read_some(net::buffer(sink), use_tuple);
        if (ec)
            break;
        drained += n;
    }
    stream.close();
    sessions.erase(state);
    daemon_metrics().set("profiled_http_connections", {}, static_cast<double>(sessions.size()));
}

http_server::http_server(net::io_context& io, router& routes, server_context& ctx)
    : impl_(std::make_unique<impl>(io, routes, ctx))
{
}

http_server::~http_server() = default;

std::uint16_t http_server::listen(const std::string& host_port)
{
    auto colon = host_port.rfind(':');
    if (colon == std::string::npos)
        throw std::runtime_error(fmt::format("listen address '{}' must be HOST:PORT", host_port));
    std::string host = host_port.substr(0, colon);
    std::string port = host_port.substr(colon + 1);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
        host = host.substr(1, host.size() - 2);
    tcp::resolver resolver(impl_->io);
    boost::system::error_code ec;
    auto results = resolver.resolve(host, port, tcp::resolver::passive | tcp::resolver::numeric_service, ec);
    if (ec || results.empty())
        throw std::runtime_error(fmt::format("cannot resolve listen address '{}': {}", host_port, ec.message()));
    tcp::endpoint endpoint = results.begin()->endpoint();
    auto& acceptor = impl_->acceptor;
    acceptor.open(endpoint.protocol());
    acceptor.set_option(net::socket_base::reuse_address(true));
    acceptor.bind(endpoint, ec);
    if (ec)
        throw std::runtime_error(fmt::format("cannot listen on {}: {}", host_port, ec.message()));
    acceptor.listen(net::socket_base::max_listen_connections);
    return acceptor.local_endpoint().port();
}

void http_server::start()
{
    net::co_spawn(impl_->io, impl_->accept_loop(), fail_loudly{"http accept loop"});
}

void http_server::stop_accepting()
{
    impl_->accepting = false;
    boost::system::error_code ignored;
    impl_->acceptor.close(ignored);
    for (auto& s : impl_->sessions) {
        if (!s.busy)
            s.stream->socket().cancel(ignored);
    }
}

std::size_t http_server::open_sessions() const { return impl_->sessions.size(); }
std::size_t http_server::requests_in_flight() const { return impl_->in_flight; }

void http_server::close_all()
{
    for (auto& s : impl_->sessions)
        s.stream->close();
}

} // namespace profiled
