// A webhook's URL: what registration accepts, and the parts a delivery connects with.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <boost/system/result.hpp>

#include "common/api_error.hpp"

namespace profiled {

// The longest webhook URL accepted, in bytes.
inline constexpr std::size_t max_webhook_url_bytes = 2048;

// An absolute http or https URL split for a request.
struct webhook_target {
    bool https = false;
    std::string host; // a name, or an address without brackets
    bool host_is_address = false;
    std::uint16_t port = 0;  // the URL's, else 80 or 443
    std::string host_header; // host[:port] as the Host header carries it
    std::string path;        // path and query, at least "/"
};

// The URL's parts, or the 400 (field "url") that says what is wrong: not absolute http/https, no host, user
// info, a fragment, or longer than max_webhook_url_bytes.
boost::system::result<webhook_target, api_error> parse_webhook_url(std::string_view url);

} // namespace profiled
