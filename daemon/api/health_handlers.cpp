// Liveness and readiness, for systemd, load balancers and tests.
#include <boost/json/object.hpp>

#include "daemon/api/routes.hpp"

namespace profiled {

namespace {

// GET /healthz: the event loop answers.
boost::asio::awaitable<http_response> get_health(server_context&, request_context&)
{
    co_return json_response(200, boost::json::object{{"status", "ok"}});
}

// GET /readyz: recovered, listening and not stopping.
boost::asio::awaitable<http_response> get_ready(server_context& ctx, request_context&)
{
    if (ctx.stopping)
        co_return json_response(503, boost::json::object{{"status", "stopping"}});
    if (!ctx.ready)
        co_return json_response(503, boost::json::object{{"status", "starting"}});
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
