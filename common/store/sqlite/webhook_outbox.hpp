// The outbox of webhook deliveries, filled in the transaction that ends a job.
#pragma once

#include <cstdint>
#include <string>

#include "common/profiles/profile.hpp"

namespace profiled {

class sqlite_connection;

// Queues one pending delivery of the job's end (job.done or job.failed, by status) to each of its project's
// webhooks that takes that event, due at now. Called inside the transaction that ends the job, so the job's end
// and its deliveries commit together or not at all.
void insert_job_deliveries(sqlite_connection& db, const std::string& job_id, job_status status, std::int64_t now);

} // namespace profiled
