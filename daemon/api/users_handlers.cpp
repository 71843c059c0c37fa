// The Users API dialect: POST /v1/users creates or updates a user and names it.
#include <memory>

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
    // Filled on the writer thread by the work, read here once the commit is known.
    auto outcome = std::make_shared<upsert_outcome>();
    auto write = written(
        ctx,
        [project, user = std::vector<user_upsert>{to_upsert(*change)}, outcome](store_writer& w) {
            std::vector<upsert_outcome> outcomes;
            w.upsert_users(project, user, now_ms(), &outcomes);
            *outcome = outcomes.front();
        },
        writer::write_kind::plain);
    auto error = co_await std::move(write);
    if (error)
        co_return error_response(*error);
    co_return json_response(200, json::object{
                                     {"success", true},
                                     {"user_id", outcome->public_id},
                                     {"external_id", external_id},
                                     {"message", outcome->created ? "User created successfully"
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
