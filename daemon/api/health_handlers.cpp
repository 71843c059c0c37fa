// Liveness and readiness, for systemd, load balancers and tests.
#include <boost/json/object.hpp>

#include "daemon/api/routes.hpp"

namespace profiled {

// GET /healthz, GET /readyz.
void add_health_routes(router& routes, server_context& ctx)
{
    route_options open{.auth = auth_rule::none};
    routes.add("GET", "/healthz", open, [](request_context&, responder respond) {
        respond(json_response(200, boost::json::object{{"status", "ok"}}));
    });
    routes.add("GET", "/readyz", open, [&ctx](request_context&, responder respond) {
        if (ctx.stopping)
            return respond(json_response(503, boost::json::object{{"status", "stopping"}}));
        if (!ctx.ready)
            return respond(json_response(503, boost::json::object{{"status", "starting"}}));
        respond(json_response(200, boost::json::object{{"status", "ready"}}));
    });
}

} // namespace profiled
