#include "daemon/api/routes.hpp"

#include "daemon/api/bulk_intake.hpp"

namespace profiled {

// Every route profiled serves.
void add_all_routes(router& routes, server_context& ctx)
{
    add_health_routes(routes, ctx);
    add_metrics_routes(routes, ctx);
    add_export_routes(routes, ctx);
    add_identify_routes(routes, ctx);
    add_people_routes(routes, ctx);
    add_users_routes(routes, ctx);
    add_bulk_routes(routes, ctx, *ctx.runner);
    add_job_routes(routes, ctx);
    add_erasure_routes(routes, ctx);
    add_listing_routes(routes, ctx);
    add_webhook_routes(routes, ctx);
    add_console_routes(routes);
}

} // namespace profiled
