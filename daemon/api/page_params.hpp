// The query parameters of paged lists (jobs, row errors, users, companies) and the pieces of their answers.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include <boost/json/value.hpp>

#include "common/profiles/requests.hpp"
#include "daemon/http/http_message.hpp"

namespace profiled {

// The decoded query parameters of a request, last value winning.
std::map<std::string, std::string> query_params(const http_request& req);
// A whole non-negative number in [min, max] (fallback when absent), or an error naming the parameter.
result<std::int64_t> integer_param(const std::map<std::string, std::string>& params, const std::string& name,
                                   std::int64_t fallback, std::int64_t min, std::int64_t max);
// The cursor parameter as the client sent it, or nothing when absent.
std::optional<std::string> cursor_param(const std::map<std::string, std::string>& params);
// The updated_since parameter (RFC 3339) as milliseconds since the epoch, nothing when absent, or the 400 for one
// that is not a date-time.
result<std::optional<std::int64_t>> updated_since_param(const std::map<std::string, std::string>& params);
// The 400 for a cursor the store did not hand out.
api_error bad_cursor();
// A page's next_cursor as JSON: the store's opaque text, or null on the last page.
boost::json::value cursor_json(const std::optional<std::string>& cursor);

} // namespace profiled
