#include "daemon/api/page_params.hpp"

#include <charconv>

#include <boost/url/parse.hpp>
#include <fmt/format.h>

#include "common/ops/clock.hpp"

namespace profiled {
namespace json = boost::json;

std::map<std::string, std::string> query_params(const http_request& req)
{
    std::map<std::string, std::string> out;
    auto url = boost::urls::parse_origin_form(req.target);
    if (!url)
        return out;
    for (auto param : url->params())
        out[param.key] = param.value;
    return out;
}

result<std::int64_t> integer_param(const std::map<std::string, std::string>& params, const std::string& name,
                                   std::int64_t fallback, std::int64_t min, std::int64_t max)
{
    auto it = params.find(name);
    if (it == params.end())
        return fallback;
    std::int64_t value = 0;
    const std::string& text = it->second;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || value < min || value > max)
        return invalid_field(name, fmt::format("{} must be a whole number from {} to {}", name, min, max));
    return value;
}

std::optional<std::string> cursor_param(const std::map<std::string, std::string>& params)
{
    auto it = params.find("cursor");
    if (it == params.end())
        return std::nullopt;
    return it->second;
}

result<std::optional<std::int64_t>> updated_since_param(const std::map<std::string, std::string>& params)
{
    auto it = params.find("updated_since");
    if (it == params.end())
        return std::optional<std::int64_t>();
    auto since = parse_rfc3339(it->second);
    if (!since)
        return invalid_field("updated_since",
                             "updated_since must be an RFC 3339 date-time such as 2025-02-02T12:34:56Z");
    return std::optional<std::int64_t>(since);
}

api_error bad_cursor()
{
    return invalid_field("cursor", "cursor must be the next_cursor of an earlier page of this list");
}

json::value cursor_json(const std::optional<std::string>& cursor)
{
    return cursor ? json::value(*cursor) : json::value(nullptr);
}

} // namespace profiled
