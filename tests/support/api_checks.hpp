// Assertions about profiled's answers shared by the integration tests.
#pragma once

#include <functional>
#include <string>

#include <boost/json/object.hpp>

#include "tests/support/http_client.hpp"
#include "tests/support/test_daemon.hpp"

namespace profiled::test {

// Waits, on PostgreSQL, until probe() answers status, for at most a second: there a key change reaches the
// daemon as a NOTIFY heard off its event loop (within a second, the bound on every daemon of a cluster). Returns at
// once on SQLite, where the very next request sees it.
void await_key_change(const std::function<int()>& probe, int status);

// Checks that reply is the common error body with this status and error_code (and details.field when given).
void check_error(const http_reply& reply, int status, const std::string& code, const std::string& field = "");

// GET /v1/users/{path_id} with the daemon's secret key; the profile, or an empty object when it is not 200.
boost::json::object get_user(const test_daemon& daemon, const std::string& path_id);

// "Authorization: Token KEY" (or "Bearer KEY") as a header list with the identify API version.
header_list identify_headers(const std::string& key, const std::string& scheme = "Token");

// The People API's success answer.
inline constexpr const char* people_ok = R"({"status":1,"error":null})";

// POSTs a People API body (JSON text, apiKey included by the caller) to path.
http_reply people_post(const test_daemon& d, const std::string& path, const std::string& body);

} // namespace profiled::test
