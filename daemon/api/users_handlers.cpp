// The Users API dialect: POST /v1/users creates or updates a user and names it.
#include <boost/json/object.hpp>

#include "common/ops/clock.hpp"
#include "common/profiles/user_writes.hpp"
#include "common/profiles/users_requests.hpp"
#include "daemon/api/routes.hpp"

namespace profiled {
namespace json = boost::json;
namespace net = boost::asio;

namespace {

// POST /v1/users: 200 {success, user_id: "usr_…", external_id, message} once the write is durable.
net::awaitable<http_response> create_or_update_user(server_context& ctx, request_context& rc)
{
    auto body = parse_json_object(rc.request.body);
    if (!body)
        co_return error_response(body.error());
    auto change = parse_users_request(*body);
    if (!change)
        co_return error_response(change.error());
    std::int64_t project = rc.key->project_id;
    std::string external_id = change->user_id;
    auto write = written_outcomes(ctx, {upsert_user(project, *change, now_ms(), true)});
    auto result = co_await std::move(write);
    if (result.failure)
        co_return error_response(*result.failure);
    const upsert_outcome& outcome = result.outcomes.front().upserts.front();
    co_return json_response(200, json::object{
                                     {"success", true},
                                     {"user_id", outcome.public_id},
                                     {"external_id", external_id},
                                     {"message", outcome.created ? "User created successfully"
                                                                 : "User updated successfully"},
                                 });
}

} // namespace

// POST /v1/users.
void add_users_routes(router& routes, server_context& ctx)
{
    routes.add("POST", "/v1/users", route_options{.auth = auth_rule::secret_key, .rate = rate_class::write, .json_body = true},
               with_context(ctx, create_or_update_user));
}

} // namespace profiled
