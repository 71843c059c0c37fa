#include "common/store/postgres/webhook_outbox.hpp"

#include "common/store/postgres/postgres.hpp"
#include "common/store/webhook_records.hpp"

namespace profiled {

void pg_insert_job_deliveries(pg_connection& db, const std::string& job_id, job_status status, std::int64_t now)
{
    const bool failed = status == job_status::failed;
    db.query("INSERT INTO webhook_deliveries (delivery_id, webhook_id, job_id, event, created_at, state, attempts, "
             "next_attempt_at) "
             "SELECT 'whd_' || md5(random()::text || clock_timestamp()::text || w.id::text), w.id, j.job_id, $1, $2, "
             "'pending', 0, $2 FROM jobs j JOIN webhooks w ON w.project_id = j.project_id "
             "WHERE j.job_id = $3 AND (CASE WHEN $4::boolean THEN w.on_failed ELSE w.on_done END) ORDER BY w.id",
             job_event_name(status), now, job_id, failed ? "true" : "false");
}

} // namespace profiled
