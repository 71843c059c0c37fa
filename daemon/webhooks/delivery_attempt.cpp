#include "daemon/webhooks/delivery_attempt.hpp"

#include <memory>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <fmt/format.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "daemon/webhooks/address_policy.hpp"

namespace profiled {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using clock_type = std::chrono::steady_clock;

namespace {

constexpr auto as_result = net::as_tuple(net::use_awaitable);

// The answer's header block may be no larger: only the status is used.
constexpr std::uint32_t max_answer_header_bytes = 16 * 1024;

// A failed attempt's result.
attempt_result failure(std::string why, std::optional<int> status = std::nullopt) { return {status, std::move(why)}; }

// Why a step failed, in words for the deliveries listing.
std::string reason(const char* step, const boost::system::error_code& ec)
{
    if (ec == beast::error::timeout || ec == net::error::operation_aborted)
        return fmt::format("timed out {}", step);
    return fmt::format("{} failed: {}", step, ec.message());
}

// Writes the request and reads the status of the answer on a connected (and for https, handshaken) stream.
template <typename Stream>
net::awaitable<attempt_result> exchange(Stream& stream, const attempt_request& req)
{
    http::request<http::string_body> r{http::verb::post, req.target.path, 11};
    r.set(http::field::host, req.target.host_header);
    r.set(http::field::user_agent, "profiled/" PROFILED_VERSION);
    r.set(http::field::content_type, "application/json");
    r.set(http::field::connection, "close");
    r.set("Profiled-Signature", req.signature);
    r.set("Profiled-Delivery-Id", req.delivery_id);
    r.body() = req.body;
    r.prepare_payload();
    auto [wec, written] = co_await http::async_write(stream, r, as_result);
    (void)written;
    if (wec)
        co_return failure(reason("sending the request", wec));
    beast::flat_buffer buffer;
    http::response_parser<http::empty_body> answer;
    answer.header_limit(max_answer_header_bytes);
    auto [rec, read] = co_await http::async_read_header(stream, buffer, answer, as_result);
    (void)read;
    if (rec)
        co_return failure(reason("reading the answer", rec));
    int status = static_cast<int>(answer.get().result_int());
    if (status < 200 || status > 299)
        co_return failure(fmt::format("the receiver answered {}", status), status);
    co_return attempt_result{status, std::nullopt};
}

} // namespace

net::awaitable<attempt_result> send_attempt(const delivery_network& network, const attempt_request& req)
{
    auto ex = co_await net::this_coro::executor;
    const auto deadline = clock_type::now() + network.timeout;
    const webhook_target& target = req.target;

    // The resolver has no timeout of its own: a timer cancels it.
    auto resolver = std::make_shared<tcp::resolver>(ex);
    net::steady_timer guard(ex);
    guard.expires_at(deadline);
    auto cancel_resolve = [resolver](const boost::system::error_code& ec) {
        if (!ec)
            resolver->cancel();
    };
    guard.async_wait(cancel_resolve);
    auto [dec, results] = co_await resolver->async_resolve(target.host, std::to_string(target.port), as_result);
    guard.cancel();
    if (dec)
        co_return failure(reason("resolving the host", dec));
    std::vector<tcp::endpoint> allowed;
    for (const auto& entry : results) {
        if (network.allow_private || is_public_address(entry.endpoint().address()))
            allowed.push_back(entry.endpoint());
    }
    if (allowed.empty())
        co_return failure("the host resolves only to addresses webhooks may not reach (loopback, private, "
                          "link-local or reserved); see --webhook-allow-private");

    beast::tcp_stream tcp(ex);
    tcp.expires_at(deadline);
    auto [cec, endpoint] = co_await tcp.async_connect(allowed, as_result);
    (void)endpoint;
    if (cec)
        co_return failure(reason("connecting", cec));
    if (!target.https) {
        tcp.expires_at(deadline);
        auto plain = exchange(tcp, req);
        co_return co_await std::move(plain);
    }

    beast::ssl_stream<beast::tcp_stream> tls(std::move(tcp), network.tls.context());
    SSL* native = tls.native_handle();
    if (!target.host_is_address)
        SSL_set_tlsext_host_name(native, target.host.c_str());
    tls.set_verify_mode(ssl::verify_peer);
    X509_VERIFY_PARAM* param = SSL_get0_param(native);
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    if (target.host_is_address)
        X509_VERIFY_PARAM_set1_ip_asc(param, target.host.c_str());
    else
        X509_VERIFY_PARAM_set1_host(param, target.host.c_str(), target.host.size());
    beast::get_lowest_layer(tls).expires_at(deadline);
    auto [hec] = co_await tls.async_handshake(ssl::stream_base::client, as_result);
    if (hec)
        co_return failure(reason("the TLS handshake", hec));
    beast::get_lowest_layer(tls).expires_at(deadline);
    auto secured = exchange(tls, req);
    co_return co_await std::move(secured);
}

tls_trust::tls_trust(std::string ca_file) : ca_file_(std::move(ca_file))
{
    if (!ca_file_.empty())
        context();
}

tls_trust::~tls_trust() = default;

ssl::context& tls_trust::context()
{
    if (!context_) {
        auto made = std::make_unique<ssl::context>(ssl::context::tls_client);
        made->set_default_verify_paths();
        if (!ca_file_.empty())
            made->load_verify_file(ca_file_);
        made->set_verify_mode(ssl::verify_peer);
        SSL_CTX_set_min_proto_version(made->native_handle(), TLS1_2_VERSION);
        context_ = std::move(made);
    }
    return *context_;
}

} // namespace profiled
