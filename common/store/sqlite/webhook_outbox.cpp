#include "common/store/sqlite/webhook_outbox.hpp"

#include "common/store/sqlite/sqlite.hpp"
#include "common/store/webhook_records.hpp"

namespace profiled {

void insert_job_deliveries(sqlite_connection& db, const std::string& job_id, job_status status, std::int64_t now)
{
    const bool failed = status == job_status::failed;
    db.query("INSERT INTO webhook_deliveries (delivery_id, webhook_id, job_id, event, created_at, state, attempts, "
             "next_attempt_at) "
             "SELECT 'whd_' || lower(hex(randomblob(16))), w.id, j.job_id, ?, ?, 'pending', 0, ? "
             "FROM jobs j JOIN webhooks w ON w.project_id = j.project_id "
             "WHERE j.job_id = ? AND (CASE WHEN ? THEN w.on_failed ELSE w.on_done END) = 1 ORDER BY w.id",
             job_event_name(status), now, now, job_id, static_cast<std::int64_t>(failed))
        .run();
}

} // namespace profiled
