// Liveness and readiness, for systemd, load balancers and tests.
#include <boost/json/object.hpp>

#include "daemon/api/routes.hpp"
#include "daemon/serve/store_health.hpp"

namespace profiled {

namespace {

// GET /healthz: the event loop answers.
boost::asio::awaitable<http_response> get_health(server_context&, request_context&)
{
    co_return json_response(200, boost::json::object{{"status", "ok"}});
}

// GET /readyz: recovered, listening, not stopping, and the database reachable as last found (by the writer, the
// readers or the key watch; asking it here would make the io thread wait on it).
boost::asio::awaitable<http_response> get_ready(server_context& ctx, request_context&)
{
    if (ctx.stopping)
        co_return json_response(503, boost::json::object{{"status", "stopping"}});
    if (!ctx.ready)
        co_return json_response(503, boost::json::object{{"status", "starting"}});
    if (ctx.health && !ctx.health->reachable()) {
        http_response r = json_response(503, boost::json::object{{"status", "database_unavailable"}});
        r.headers.emplace_back("Retry-After", std::to_string(unreachable_retry_seconds));
        co_return r;
    }
    co_return json_response(200, boost::json::object{{"status", "ready"}});
}

} // namespace

// GET /healthz, GET /readyz.
void add_health_routes(router& routes, server_context& ctx)
{
    route_options open{.auth = auth_rule::none};
    routes.add("GET", "/healthz", open, with_context(ctx, get_health));
    routes.add("GET", "/readyz", open, with_context(ctx, get_ready));
}

} // namespace profiled
