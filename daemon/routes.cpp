#include "daemon/routes.hpp"

namespace profiled {

// Every route profiled serves.
void add_all_routes(router& routes, server_context& ctx)
{
    add_health_routes(routes, ctx);
    add_identify_routes(routes, ctx);
}

} // namespace profiled
