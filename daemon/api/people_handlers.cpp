// The People API dialect: POST /public/identify, /public/people/set and /public/alias, with apiKey in the body.
#include <boost/json/object.hpp>

#include "common/ops/clock.hpp"
#include "common/profiles/people_requests.hpp"
#include "daemon/api/auth.hpp"
#include "daemon/api/routes.hpp"

namespace profiled {
namespace json = boost::json;
namespace net = boost::asio;

namespace {

// The People API's success body once the write is durable, or the common error body.
http_response people_ok(const std::optional<api_error>& error)
{
    if (error)
        return error_response(*error);
    return json_response(200, json::object{{"status", 1}, {"error", nullptr}});
}

// The body and its caller's key, or the answer refusing the request: bad JSON, a missing or unknown key,
// a public key where secret_only (403 naming the endpoint), or the key over its write rate (429).
net::awaitable<boost::system::result<std::pair<json::object, api_key_record>, http_response>>
admitted_body(server_context& ctx, const request_context& rc, std::string_view endpoint, bool secret_only)
{
    auto body = parse_json_object(rc.request.body);
    if (!body)
        co_return error_response(body.error());
    auto key_text = body_api_key(*body);
    if (!key_text)
        co_return error_response(key_text.error());
    auto key = co_await authenticate_key(key_cache_of(ctx.reader), ctx.reads, *key_text);
    if (!key)
        co_return error_response(key.error());
    if (secret_only) {
        if (auto denied = require_secret(*key, endpoint))
            co_return error_response(*denied);
    }
    if (auto refused = rc.throttle(*key))
        co_return std::move(*refused);
    co_return std::pair{std::move(*body), std::move(*key)};
}

// The body's update of one profile, parsed with parse, applied once the caller is admitted and answered once
// durable: the whole of /public/identify and /public/people/set but for their parser and key rule.
net::awaitable<http_response> people_update_request(server_context& ctx, request_context& rc,
                                                    std::string_view endpoint, bool secret_only,
                                                    result<people_update> (*parse)(const json::object&))
{
    auto caller = co_await admitted_body(ctx, rc, endpoint, secret_only);
    if (!caller)
        co_return std::move(caller.error());
    auto update = parse(caller->first);
    if (!update)
        co_return error_response(update.error());
    auto write = written(ctx, {update_people{caller->second.project_id, std::move(update->distinct_id),
                                             std::move(update->operations), now_ms()}});
    auto error = co_await std::move(write);
    co_return people_ok(error);
}

// POST /public/identify: a public or a secret key; properties are $set.
net::awaitable<http_response> people_identify(server_context& ctx, request_context& rc)
{
    return people_update_request(ctx, rc, "POST /public/identify", false, parse_people_identify);
}

// POST /public/people/set: a secret key; the operations apply atomically or not at all.
net::awaitable<http_response> people_set(server_context& ctx, request_context& rc)
{
    return people_update_request(ctx, rc, "POST /public/people/set", true, parse_people_set);
}

// POST /public/alias: a secret key; original_id resolves to alias_id from now on.
net::awaitable<http_response> people_alias(server_context& ctx, request_context& rc)
{
    auto caller = co_await admitted_body(ctx, rc, "POST /public/alias", true);
    if (!caller)
        co_return std::move(caller.error());
    auto alias = parse_alias(caller->first);
    if (!alias)
        co_return error_response(alias.error());
    std::int64_t project = caller->second.project_id;
    auto write = written(ctx, {alias_user{project, std::move(alias->alias_id), std::move(alias->original_id), now_ms()}});
    auto error = co_await std::move(write);
    co_return people_ok(error);
}

} // namespace

// POST /public/identify, /public/people/set, /public/alias.
void add_people_routes(router& routes, server_context& ctx)
{
    route_options body_key{.auth = auth_rule::body_key, .rate = rate_class::write, .json_body = true};
    routes.add("POST", "/public/identify", body_key, with_context(ctx, people_identify));
    routes.add("POST", "/public/people/set", body_key, with_context(ctx, people_set));
    routes.add("POST", "/public/alias", body_key, with_context(ctx, people_alias));
}

} // namespace profiled
