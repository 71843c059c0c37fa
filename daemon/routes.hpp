// Registration of every endpoint group into the routing table.
#pragma once

#include "daemon/router.hpp"
#include "daemon/server_context.hpp"

namespace profiled {

// GET /healthz, GET /readyz.
void add_health_routes(router& routes, server_context& ctx);
// POST /v1/identify, POST /v1/companies/identify, GET /v1/users/{id}, GET /v1/companies/{id}.
void add_identify_routes(router& routes, server_context& ctx);
// Every route profiled serves.
void add_all_routes(router& routes, server_context& ctx);

} // namespace profiled
