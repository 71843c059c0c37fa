// The routing table: (method, path pattern) -> handler; 404 and 405 fall out of it.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "common/ops/token_bucket.hpp"
#include "common/profiles/profile.hpp"
#include "common/store/store.hpp"
#include "daemon/http/http_message.hpp"
#include "daemon/http/upload_sink.hpp"

namespace profiled {

enum class auth_rule {
    none,       // health, readiness, metrics
    secret_key, // Authorization header, secret key
    header_key, // Authorization header, any live key (the handler decides)
    body_key,   // apiKey in the JSON body; the handler authenticates
};

// Which per-key request rate limit a route counts against.
enum class rate_class { none, write, bulk, read };

// Per-key request rates per route class; 0 = off. Writes and reads per second, bulk per minute.
struct request_rate_limits {
    double writes_per_second = 0;
    double bulk_per_minute = 0;
    double reads_per_second = 0;
};

struct route_options {
    auth_rule auth = auth_rule::secret_key;
    rate_class rate = rate_class::none;
    bool json_body = false; // the body must be JSON (415 otherwise)
    bool upload = false;    // the body is streamed by the session to an upload sink, not buffered
};

// What a handler gets: the request, its path parameters and the authenticated key.
struct request_context {
    const http_request& request;
    std::vector<std::string> params;
    std::optional<api_key_record> key;
    // For routes whose handler authenticates (apiKey in the body): the route's per-key rate limit, to call
    // once the key is known; a 429 response when it is used up.
    std::function<std::optional<http_response>(const api_key_record&)> throttle;
};

// A handler: a coroutine on the io thread that co_returns its response; what it throws becomes an error response.
using route_handler = std::function<boost::asio::awaitable<http_response>(request_context&)>;
// For upload routes: called once the headers are read, before any of the body.
using upload_handler = std::function<boost::asio::awaitable<upload_start>(request_context&)>;

struct route {
    std::string method;
    std::string pattern; // e.g. /v1/users/{user_id}; also the route label in logs and metrics
    std::vector<std::string> segments;
    route_options options;
    route_handler handler;
    upload_handler upload;
};

// An upload route's start, with the key's place among its concurrent uploads (given back when released).
struct opened_upload {
    upload_start start;
    std::shared_ptr<void> slot;
};

// The route that matches a request, with its decoded path parameters, or the error to answer.
struct route_match {
    const route* matched = nullptr;
    std::vector<std::string> params;
    std::optional<api_error> error;
    std::string allow; // on a 405: the methods the path takes, for the Allow header
};

class reader_pool;

class router {
public:
    // keys is the io thread's reader, for the key cache; keys it does not hold are looked up in lookups.
    router(store_reader& keys, reader_pool& lookups) : keys_(keys), lookups_(lookups) {}

    // Sets the per-key request rate limits (at start and on SIGHUP).
    void set_rate_limits(request_rate_limits limits);
    // A 429 when the key has used up its rate for this route class; takes one request otherwise.
    std::optional<http_response> throttle(const api_key_record& key, rate_class cls);

    // Adds a route; {name} segments match one decoded path segment.
    void add(std::string method, std::string pattern, route_options options, route_handler handler);
    // Finds the route for method and path: a match, or a 404 / 405 error. HEAD matches the GET routes.
    route_match match(std::string_view method, std::string_view target) const;
    // Sets how many bulk uploads one key may send at once (more get 429).
    void set_uploads_per_key(std::uint32_t limit) { uploads_per_key_ = limit; }
    // Adds an upload route, whose body is streamed to the sink its handler returns.
    void add_upload(std::string method, std::string pattern, route_options options, upload_handler handler);
    // Checks auth and content type, runs the handler, and turns exceptions into error responses.
    boost::asio::awaitable<http_response> dispatch(const route_match& match, const http_request& request);
    // Checks auth and the key's concurrent uploads, and starts an upload route: a sink for the body or an
    // immediate response.
    boost::asio::awaitable<opened_upload> open_upload(const route_match& match, const http_request& request);

private:
    // Authenticates the request as the route demands and checks its content type; an error response on refusal.
    boost::asio::awaitable<std::optional<http_response>> admit(const route& r, const http_request& request,
                                                               request_context& ctx);
    // The response for an exception escaping a handler.
    http_response response_for_exception(const route& r, std::exception_ptr e);

    store_reader& keys_;
    reader_pool& lookups_;
    std::vector<route> routes_;
    request_rate_limits limits_;
    std::map<std::pair<std::int64_t, rate_class>, token_bucket> buckets_;
    std::uint32_t uploads_per_key_ = 4;
    std::shared_ptr<std::map<std::int64_t, std::uint32_t>> uploads_ = std::make_shared<std::map<std::int64_t, std::uint32_t>>();
    std::chrono::steady_clock::time_point last_throttle_log_{};
};

// The decoded path of a request target, split into segments; nullopt when the target is not a valid path.
std::optional<std::vector<std::string>> split_path(std::string_view target);

} // namespace profiled
