#include "daemon/webhooks/webhook_url.hpp"

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <fmt/format.h>

namespace profiled {

namespace urls = boost::urls;

boost::system::result<webhook_target, api_error> parse_webhook_url(std::string_view url)
{
    if (url.size() > max_webhook_url_bytes)
        return invalid_field("url", fmt::format("url must be at most {} bytes", max_webhook_url_bytes));
    auto parsed = urls::parse_absolute_uri(url);
    if (!parsed)
        return invalid_field("url", "url must be an absolute http or https URL");
    const urls::url_view& u = *parsed;
    webhook_target t;
    if (u.scheme_id() == urls::scheme::https)
        t.https = true;
    else if (u.scheme_id() != urls::scheme::http)
        return invalid_field("url", "url must use http or https");
    if (!u.has_authority() || u.encoded_host().empty())
        return invalid_field("url", "url must name a host");
    if (u.has_userinfo())
        return invalid_field("url", "url must not carry a user name or password");
    switch (u.host_type()) {
    case urls::host_type::ipv4:
        t.host = u.host_ipv4_address().to_string();
        t.host_is_address = true;
        break;
    case urls::host_type::ipv6:
        t.host = u.host_ipv6_address().to_string();
        t.host_is_address = true;
        break;
    case urls::host_type::name: t.host = u.host(); break;
    default: return invalid_field("url", "url must name a host by name or IP address");
    }
    if (t.host.empty())
        return invalid_field("url", "url must name a host");
    if (u.has_port()) {
        // port_number() wraps a number past 16 bits round: read the text itself.
        std::string_view digits = u.port();
        if (digits.empty() || digits.size() > 5 || std::stoul(std::string(digits)) > 65535 || u.port_number() == 0)
            return invalid_field("url", "url's port must be 1 to 65535");
        t.port = u.port_number();
    } else {
        t.port = t.https ? 443 : 80;
    }
    t.host_header = std::string(u.encoded_host_and_port());
    t.path = u.encoded_path().empty() ? "/" : std::string(u.encoded_path());
    if (u.has_query())
        t.path += "?" + std::string(u.encoded_query());
    return t;
}

} // namespace profiled
