// Intake of bulk uploads: stream the body into a spool file, make it durable, record the job as queued.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "daemon/http/router.hpp"
#include "daemon/http/upload_sink.hpp"

namespace profiled {

struct server_context;
class job_runner;

// POST /v1/users/bulk_identify and POST /v1/companies/bulk_identify.
void add_bulk_routes(router& routes, server_context& ctx, job_runner& runner);

} // namespace profiled
