// Beast and Asio for the CLI's small requests; kept in this file so their headers stay out of the commands.
#include "daemon/cli/daemon_request.hpp"

#include <algorithm>
#include <chrono>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <boost/url/parse.hpp>
#include <fmt/format.h>

namespace profiled {
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

// Answers are small JSON objects; anything bigger is not the daemon talking.
constexpr std::uint64_t max_answer_bytes = 1 << 20;
// A daemon answers a cancel in milliseconds; a request still unanswered after this is not going to be.
constexpr auto request_timeout = std::chrono::seconds(30);

// Where the daemon listens.
struct daemon_address {
    std::string host; // without IPv6 brackets
    std::string port;
    std::string host_header;
    std::string base_path; // a reverse proxy's prefix, without a trailing slash
};

// The parts of --url a request needs; refuses what the daemon cannot speak.
daemon_address parse_daemon_url(const std::string& text)
{
    namespace urls = boost::urls;
    auto url = urls::parse_absolute_uri(text);
    auto refuse = [&](const char* why) {
        return daemon_unreachable(fmt::format("--url '{}' {}; give the daemon's address as http://HOST:PORT", text,
                                              why));
    };
    if (!url)
        throw refuse("is not a URL");
    if (url->scheme_id() != urls::scheme::http)
        throw refuse("is not an http:// URL (profiled serves plain HTTP)");
    if (!url->has_authority() || url->encoded_host_address().empty())
        throw refuse("has no host");
    if (url->has_userinfo() || url->has_query() || url->has_fragment())
        throw refuse("must not carry credentials, a query or a fragment (the key goes in --key)");
    daemon_address address;
    address.host = url->host_address();
    address.port = url->has_port() ? std::string(url->port()) : "80";
    address.host_header = std::string(url->encoded_host_and_port());
    address.base_path = std::string(url->encoded_path());
    while (!address.base_path.empty() && address.base_path.back() == '/')
        address.base_path.pop_back();
    return address;
}

} // namespace

daemon_answer ask_daemon(const std::string& url, const std::string& key, const std::string& method,
                         const std::string& target)
{
    daemon_address address = parse_daemon_url(url);
    net::io_context io;
    beast::error_code ec;
    tcp::resolver resolver(io);
    auto endpoints = resolver.resolve(address.host, address.port, ec);
    if (ec)
        throw daemon_unreachable(fmt::format("cannot resolve {}: {}", address.host, ec.message()));
    beast::tcp_stream stream(io);
    stream.expires_after(request_timeout);
    stream.connect(endpoints, ec);
    if (ec)
        throw daemon_unreachable(fmt::format("cannot connect to {}: {}", address.host_header, ec.message()));

    http::request<http::empty_body> req{http::string_to_verb(method), address.base_path + target, 11};
    req.set(http::field::host, address.host_header);
    req.set(http::field::user_agent, "profiled-cli/" PROFILED_VERSION);
    req.set(http::field::accept, "application/json");
    req.set(http::field::authorization, "Token " + key);
    req.content_length(0);
    http::write(stream, req, ec);
    if (ec)
        throw daemon_unreachable(fmt::format("the request to {} failed: {}", address.host_header, ec.message()));

    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(max_answer_bytes);
    http::read(stream, buffer, parser, ec);
    if (ec)
        throw daemon_unreachable(fmt::format("no answer from {}: {}", address.host_header, ec.message()));
    stream.socket().shutdown(tcp::socket::shutdown_both, ec);
    return {static_cast<int>(parser.get().result_int()), std::move(parser.get().body())};
}

std::string describe_refusal(const daemon_answer& answer)
{
    boost::system::error_code ec;
    json::value parsed = json::parse(answer.body, ec);
    const json::value* errors = !ec && parsed.is_object() ? parsed.as_object().if_contains("errors") : nullptr;
    if (errors && errors->is_array() && !errors->as_array().empty() && errors->as_array()[0].is_object()) {
        const json::object& first = errors->as_array()[0].as_object();
        auto text = [&](const char* name) {
            const json::value* v = first.if_contains(name);
            return v && v->is_string() ? std::string(v->as_string()) : std::string();
        };
        std::string message = text("message"), code = text("error_code");
        if (!message.empty())
            return fmt::format("{} (HTTP {}{}{})", message, answer.status, code.empty() ? "" : ", ", code);
    }
    std::string body = answer.body.substr(0, 200);
    std::replace(body.begin(), body.end(), '\n', ' ');
    return body.empty() ? fmt::format("HTTP {}", answer.status) : fmt::format("HTTP {}: {}", answer.status, body);
}

} // namespace profiled
