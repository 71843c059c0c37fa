// Registration of every endpoint group into the routing table.
#pragma once

#include "daemon/http/router.hpp"
#include "daemon/serve/server_context.hpp"

namespace profiled {

// A route handler that calls the coroutine handler(ctx, request_context).
template <typename Handler>
route_handler with_context(server_context& ctx, Handler handler)
{
    return [&ctx, handler](request_context& rc) { return handler(ctx, rc); };
}

// GET /healthz, GET /readyz.
void add_health_routes(router& routes, server_context& ctx);
// POST /v1/identify, POST /v1/companies/identify, GET /v1/users/{id}, GET /v1/companies/{id}.
void add_identify_routes(router& routes, server_context& ctx);
// GET /v1/background_jobs, /v1/background_jobs/{job_id}, /v1/background_jobs/{job_id}/errors.
void add_job_routes(router& routes, server_context& ctx);
// POST /public/identify, /public/people/set, /public/alias (the People API dialect).
void add_people_routes(router& routes, server_context& ctx);
// POST /v1/users (the Users API dialect).
void add_users_routes(router& routes, server_context& ctx);
// DELETE /v1/users/{user_id}, /v1/companies/{company_id}, and the bulk DELETE /v1/users, /v1/companies.
void add_erasure_routes(router& routes, server_context& ctx);
// GET /v1/users, GET /v1/companies: the project's profiles page by page.
void add_listing_routes(router& routes, server_context& ctx);
// GET /v1/users/export, GET /v1/companies/export: the whole project as NDJSON. Added before the routes with an
// {id} segment, which would take "export" for an id.
void add_export_routes(router& routes, server_context& ctx);
// POST /v1/webhooks, GET /v1/webhooks, DELETE /v1/webhooks/{id}, GET /v1/webhooks/{id}/deliveries.
void add_webhook_routes(router& routes, server_context& ctx);
// GET /metrics.
void add_metrics_routes(router& routes, server_context& ctx);
// GET /, /ui, /ui/ and /ui/assets/{version}/{file}: the web console.
void add_console_routes(router& routes);
// Every route profiled serves.
void add_all_routes(router& routes, server_context& ctx);

} // namespace profiled
