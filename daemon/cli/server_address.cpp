#include "daemon/cli/server_address.hpp"

#include <algorithm>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <boost/url/parse.hpp>
#include <fmt/format.h>

namespace profiled {
namespace json = boost::json;

server_address parse_server_url(const std::string& text)
{
    namespace urls = boost::urls;
    const std::string expected = "give the daemon's address as http://HOST:PORT";
    auto url = urls::parse_absolute_uri(text);
    if (!url)
        throw cli_usage_error(fmt::format("--url '{}' is not a URL; {}", text, expected));
    if (url->scheme_id() == urls::scheme::https)
        throw cli_usage_error(fmt::format("--url '{}': https is not supported, profiled serves plain HTTP; {}", text,
                                          expected));
    if (url->scheme_id() != urls::scheme::http)
        throw cli_usage_error(fmt::format("--url '{}': only http:// URLs are supported; {}", text, expected));
    if (!url->has_authority() || url->encoded_host_address().empty())
        throw cli_usage_error(fmt::format("--url '{}' has no host; {}", text, expected));
    if (url->has_userinfo() || url->has_query() || url->has_fragment())
        throw cli_usage_error(fmt::format("--url '{}' must not carry credentials, a query or a fragment (the key goes "
                                          "in --key); {}",
                                          text, expected));
    if (url->has_port() && url->port_number() == 0)
        throw cli_usage_error(fmt::format("--url '{}' has an invalid port; {}", text, expected));
    server_address address;
    address.host = url->host_address();
    address.port = url->has_port() ? std::string(url->port()) : "80";
    address.host_header = std::string(url->encoded_host_and_port());
    address.base_path = std::string(url->encoded_path());
    while (!address.base_path.empty() && address.base_path.back() == '/')
        address.base_path.pop_back();
    return address;
}

std::string describe_error_body(int status, const std::string& answer_body)
{
    boost::system::error_code ec;
    json::value parsed = json::parse(answer_body, ec);
    if (!ec && parsed.is_object()) {
        const json::value* errors = parsed.as_object().if_contains("errors");
        if (errors && errors->is_array() && !errors->as_array().empty() && errors->as_array()[0].is_object()) {
            const json::object& first = errors->as_array()[0].as_object();
            auto text = [&](const char* name) {
                const json::value* v = first.if_contains(name);
                return v && v->is_string() ? std::string(v->as_string()) : std::string();
            };
            std::string message = text("message");
            std::string code = text("error_code");
            if (!message.empty())
                return fmt::format("{} (HTTP {}{}{})", message, status, code.empty() ? "" : ", ", code);
        }
    }
    std::string body = answer_body.substr(0, 200);
    std::replace(body.begin(), body.end(), '\n', ' ');
    return body.empty() ? fmt::format("HTTP {}", status) : fmt::format("HTTP {}: {}", status, body);
}

} // namespace profiled
