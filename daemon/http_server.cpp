#include "daemon/http_server.hpp"

#include <chrono>
#include <list>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>

#include "common/log.hpp"
#include "common/metrics.hpp"
#include "daemon/router.hpp"
#include "daemon/server_context.hpp"
#include "daemon/upload_sink.hpp"

namespace profiled {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;

namespace {
constexpr auto use_tuple = net::as_tuple(net::use_awaitable);
// Upload bodies are read from the socket in pieces of up to this size.
constexpr std::size_t upload_read_bytes = 1024 * 1024;

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
    req.target = std::string(h.target());
    auto q = req.target.find('?');
    req.path = req.target.substr(0, q);
    if (q != std::string::npos)
        req.query = req.target.substr(q + 1);
    for (const auto& field : h) {
        std::string name(field.name_string());
        for (auto& c : name)
            c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        req.headers.emplace_back(std::move(name), std::string(field.value()));
    }
    req.remote = remote;
    return req;
}

// The Beast response for a handler's response.
http::response<http::string_body> to_beast(http_response&& r, unsigned version, bool keep_alive)
{
    http::response<http::string_body> res{static_cast<http::status>(r.status), version};
    res.set(http::field::server, "profiled/" PROFILED_VERSION);
    res.set(http::field::content_type, r.content_type);
    for (auto& [name, value] : r.headers)
        res.set(name, value);
    res.body() = std::move(r.body);
    res.keep_alive(keep_alive);
    res.prepare_payload();
    return res;
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

    net::awaitable<void> accept_loop();
    net::awaitable<void> run_session(tcp::socket socket);
    net::awaitable<http_response> dispatch(const route_match& match, const http_request& request);
    net::awaitable<std::optional<http_response>> receive_upload(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                                                                http::request_parser<http::empty_body>&& header_parser,
                                                                upload_sink& sink);
    net::awaitable<std::optional<http_response>> receive_sized_upload(beast::tcp_stream& stream,
                                                                      beast::flat_buffer& buffer,
                                                                      std::uint64_t remaining, upload_sink& sink);
    net::awaitable<http_response> finish_upload(upload_sink& sink);
    net::awaitable<void> send_continue(beast::tcp_stream& stream, const http::request_header<>& header);
    void record_request(const http_request& request, const route_match& match, const http_response& response,
                        std::chrono::steady_clock::time_point started);
    net::awaitable<bool> write(beast::tcp_stream& stream, http_response&& r, unsigned version, bool keep_alive);
};

// Accepts connections until stop_accepting().
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
        net::co_spawn(io, run_session(std::move(socket)), [](std::exception_ptr e) {
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

// Runs a handler and waits for its response, which may come from the writer thread.
net::awaitable<http_response> http_server::impl::dispatch(const route_match& match, const http_request& request)
{
    co_return co_await net::async_initiate<const net::use_awaitable_t<>&, void(http_response)>(
        [this, &match, &request](auto handler) {
            auto shared = std::make_shared<decltype(handler)>(std::move(handler));
            routes.dispatch(match, request, [shared](http_response r) {
                auto ex = net::get_associated_executor(*shared);
                net::post(ex, [shared, r = std::move(r)]() mutable { (*shared)(std::move(r)); });
            });
        },
        net::use_awaitable);
}

// Completes an upload: the sink makes it durable and answers, possibly from the writer thread.
net::awaitable<http_response> http_server::impl::finish_upload(upload_sink& sink)
{
    co_return co_await net::async_initiate<const net::use_awaitable_t<>&, void(http_response)>(
        [&sink](auto handler) {
            auto shared = std::make_shared<decltype(handler)>(std::move(handler));
            sink.finish([shared](http_response r) {
                auto ex = net::get_associated_executor(*shared);
                net::post(ex, [shared, r = std::move(r)]() mutable { (*shared)(std::move(r)); });
            });
        },
        net::use_awaitable);
}

namespace {

// The answer for an upload over --max-upload-bytes.
http_response upload_too_large(std::uint64_t limit)
{
    http_response r = error_response({errc::payload_too_large, "upload_too_large",
                                      fmt::format("upload exceeds the limit of {} bytes (--max-upload-bytes)", limit),
                                      {}});
    r.close = true;
    return r;
}

} // namespace

// Streams an upload's body into the sink chunk by chunk; nothing when the client went away.
net::awaitable<std::optional<http_response>>
http_server::impl::receive_upload(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                                  http::request_parser<http::empty_body>&& header_parser, upload_sink& sink)
{
    const auto& s = ctx.settings;
    // The limit applies to the rows the sink keeps; the HTTP body may carry some multipart framing on top.
    const std::uint64_t body_limit = s.max_upload_bytes + 64 * 1024;
    if (header_parser.content_length().value_or(0) > body_limit)
        co_return upload_too_large(s.max_upload_bytes);
    if (!header_parser.chunked())
        co_return co_await receive_sized_upload(stream, buffer, *header_parser.content_length(), sink);

    http::request_parser<http::buffer_body> parser(std::move(header_parser));
    parser.body_limit(body_limit);
    std::vector<char> chunk(upload_read_bytes);
    while (!parser.is_done()) {
        parser.get().body().data = chunk.data();
        parser.get().body().size = chunk.size();
        // A rolling timeout: a slow but steady upload is fine, a stalled one is not.
        stream.expires_after(std::chrono::seconds(s.read_timeout_seconds));
        auto [ec, n] = co_await http::async_read_some(stream, buffer, parser, use_tuple);
        if (ec == http::error::need_buffer)
            ec = {};
        if (ec == http::error::body_limit)
            co_return upload_too_large(s.max_upload_bytes);
        if (ec && is_disconnect(ec))
            co_return std::nullopt;
        if (ec) {
            http_response r = error_response(bad_body("malformed_request", "malformed HTTP body: " + ec.message()));
            r.close = true;
            co_return r;
        }
        std::size_t got = chunk.size() - parser.get().body().size;
        if (got == 0)
            continue;
        if (auto refused = sink.write(std::string_view(chunk.data(), got))) {
            http_response r = error_response(*refused);
            r.close = true;
            co_return r;
        }
    }
    co_return co_await finish_upload(sink);
}

// Reads a Content-Length upload straight from the socket in large reads (Beast's parser would copy
// every byte through its own buffer 64 KB at a time); nothing when the client went away.
net::awaitable<std::optional<http_response>>
http_server::impl::receive_sized_upload(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                                        std::uint64_t remaining, upload_sink& sink)
{
    const auto& s = ctx.settings;
    // Bytes of the body that arrived together with the header.
    if (buffer.size() > 0) {
        std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(buffer.size(), remaining));
        auto data = buffer.data();
        std::string_view head(static_cast<const char*>(data.data()), take);
        if (auto refused = sink.write(head)) {
            http_response r = error_response(*refused);
            r.close = true;
            co_return r;
        }
        buffer.consume(take);
        remaining -= take;
    }
    std::vector<char> chunk(upload_read_bytes);
    // A rolling timeout, renewed at most once a second: a slow but steady upload is fine, a stalled one is not.
    auto renewed = std::chrono::steady_clock::now();
    stream.expires_after(std::chrono::seconds(s.read_timeout_seconds));
    while (remaining > 0) {
        auto now = std::chrono::steady_clock::now();
        if (now - renewed >= 1s) {
            stream.expires_after(std::chrono::seconds(s.read_timeout_seconds));
            renewed = now;
        }
        std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(chunk.size(), remaining));
        auto [ec, got] = co_await stream.async_read_some(net::buffer(chunk.data(), want), use_tuple);
        if (ec == net::error::eof) {
            // The client half-closed before sending all it announced; it may still read the answer.
            http_response r = error_response(bad_body(
                "malformed_request",
                fmt::format("malformed HTTP body: the request ended {} bytes short of its Content-Length", remaining)));
            r.close = true;
            co_return r;
        }
        if (ec)
            co_return std::nullopt; // timeout, reset or close: there is no one to answer
        remaining -= got;
        if (auto refused = sink.write(std::string_view(chunk.data(), got))) {
            http_response r = error_response(*refused);
            r.close = true;
            co_return r;
        }
    }
    co_return co_await finish_upload(sink);
}

// Answers "Expect: 100-continue" so clients such as curl send the body without waiting.
net::awaitable<void> http_server::impl::send_continue(beast::tcp_stream& stream, const http::request_header<>& header)
{
    if (!beast::iequals(header[http::field::expect], "100-continue"))
        co_return;
    http::response<http::empty_body> cont{http::status::continue_, header.version()};
    stream.expires_after(std::chrono::seconds(ctx.settings.read_timeout_seconds));
    co_await http::async_write(stream, cont, use_tuple);
}

// Metrics, the access log line, and an http.error line for every 5xx.
void http_server::impl::record_request(const http_request& request, const route_match& match,
                                       const http_response& response, std::chrono::steady_clock::time_point started)
{
    // Unmatched paths share one label so clients cannot blow up the metric's cardinality.
    std::string route = match.matched ? match.matched->pattern : "unmatched";
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::string code = std::to_string(response.status);
    auto& m = daemon_metrics();
    m.add("profiled_http_requests_total", metric_labels({{"route", route}, {"method", request.method}, {"code", code}}));
    m.observe("profiled_http_request_duration_seconds", metric_labels({{"route", route}}), seconds);
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

// Writes one response; false when the connection broke.
net::awaitable<bool> http_server::impl::write(beast::tcp_stream& stream, http_response&& r, unsigned version,
                                              bool keep_alive)
{
    auto res = to_beast(std::move(r), version, keep_alive);
    stream.expires_after(std::chrono::seconds(ctx.settings.read_timeout_seconds));
    auto [ec, n] = co_await http::async_write(stream, res, use_tuple);
    co_return !ec;
}

// Reads requests off one connection and answers them, until close, error or shutdown.
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
    beast::flat_buffer buffer;
    bool first = true;
    const auto& s = ctx.settings;

    while (accepting) {
        http::request_parser<http::empty_body> parser;
        parser.header_limit(s.max_header_bytes);
        // Beast checks Content-Length against the body limit as soon as the header is read; the
        // per-route limits (max-body-bytes, max-upload-bytes) are applied once the route is known.
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
                                      fmt::format("request headers exceed {} bytes", s.max_header_bytes), {}})
                    : error_response(bad_body("malformed_request", "malformed HTTP request: " + ec.message()));
            co_await write(stream, std::move(refused), 11, false);
            break;
        }
        state->busy = true;
        ++in_flight;
        auto request_started = std::chrono::steady_clock::now();
        const auto& header = parser.get();
        unsigned version = header.version();
        bool keep_alive = header.keep_alive();
        http_request request = to_request(header, remote);
        route_match match = routes.match(request.method, request.target);
        http_response response;
        bool has_body = parser.content_length().value_or(0) > 0 || parser.chunked();
        // Beast frames a body only by chunked or Content-Length; any other Transfer-Encoding would leave
        // its bytes to be read as the next request, which is how requests get smuggled (RFC 9112 6.1).
        bool unframed = header.count(http::field::transfer_encoding) > 0 && !parser.chunked();

        if (unframed) {
            response = error_response(bad_body("malformed_request", "Transfer-Encoding must be chunked (alone) or "
                                                                    "absent with a Content-Length"));
            response.close = true;
        } else if (match.error) {
            response = error_response(*match.error);
            // The body was not read, so the connection cannot carry another request.
            response.close = has_body;
        } else if (match.matched->options.upload) {
            upload_start start = routes.open_upload(match, request);
            if (start.response) {
                response = std::move(*start.response);
                response.close = has_body;
            } else {
                co_await send_continue(stream, header);
                auto answer = co_await receive_upload(stream, buffer, std::move(parser), *start.sink);
                if (!answer) {
                    --in_flight;
                    break;
                }
                response = std::move(*answer);
            }
        } else if (parser.content_length().value_or(0) > s.max_body_bytes) {
            // Beast compares a Content-Length with the limit only while reading the header.
            response = error_response({errc::payload_too_large, "body_too_large",
                                       fmt::format("request body exceeds {} bytes", s.max_body_bytes), {}});
            response.close = true;
        } else {
            co_await send_continue(stream, header);
            http::request_parser<http::string_body> body_parser(std::move(parser));
            body_parser.body_limit(s.max_body_bytes);
            stream.expires_after(std::chrono::seconds(s.read_timeout_seconds));
            auto [body_ec, body_n] = co_await http::async_read(stream, buffer, body_parser, use_tuple);
            if (body_ec == http::error::body_limit) {
                response = error_response({errc::payload_too_large, "body_too_large",
                                           fmt::format("request body exceeds {} bytes", s.max_body_bytes), {}});
                response.close = true;
            } else if (body_ec && is_disconnect(body_ec)) {
                --in_flight;
                break;
            } else if (body_ec) {
                response = error_response(bad_body("malformed_request", "malformed HTTP body: " + body_ec.message()));
                response.close = true;
            } else {
                request.body = std::move(body_parser.get().body());
                response = co_await dispatch(match, request);
            }
        }
        bool keep = keep_alive && !response.close && accepting;
        record_request(request, match, response, request_started);
        bool written = co_await write(stream, std::move(response), version, keep);
        --in_flight;
        state->busy = false;
        if (!written || !keep)
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
}

http_server::http_server(net::io_context& io, router& routes, server_context& ctx)
    : impl_(std::make_unique<impl>(io, routes, ctx))
{
}

http_server::~http_server() = default;

// Binds and listens on host:port; returns the bound port.
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

// Starts accepting connections.
void http_server::start()
{
    net::co_spawn(impl_->io, impl_->accept_loop(), net::detached);
}

// Stops accepting; idle keep-alive connections are closed, in-flight requests finish.
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

// Closes every connection now: pending reads and writes end with operation_aborted and the sessions unwind.
void http_server::close_all()
{
    for (auto& s : impl_->sessions)
        s.stream->close();
}

} // namespace profiled
