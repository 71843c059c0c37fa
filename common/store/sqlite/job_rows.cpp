#include "common/store/sqlite/job_rows.hpp"

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>

#include "common/store/job_cancel.hpp"
#include "common/store/sqlite/stored_rows.hpp"
#include "common/store/sqlite/webhook_outbox.hpp"

namespace profiled {

bool insert_job_row(sqlite_connection& db, const job_record& j, const std::string& upload_sha256)
{
    // Only a clash on the idempotency key is an answer; any other constraint failing is a bug and throws.
    std::optional<std::string> digest;
    if (j.idempotency_key)
        digest = upload_sha256;
    db.query("INSERT INTO jobs(job_id, project_id, type, status, filename, file_size, total_rows, "
             "idempotency_key, idempotency_sha256, submitted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
             "ON CONFLICT (project_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING",
             j.job_id, j.project_id, to_string(j.type), to_string(j.status), j.filename, j.file_size, j.total_rows,
             j.idempotency_key, digest, j.submitted_at)
        .run();
    return db.changes() != 0;
}

void clear_idempotency_key(sqlite_connection& db, std::int64_t project_id, const std::string& key,
                           std::int64_t not_before)
{
    db.query("UPDATE jobs SET idempotency_key = NULL WHERE project_id = ? AND idempotency_key = ? "
             "AND submitted_at < ?",
             project_id, key, not_before)
        .run();
}

std::optional<job_record> claim_job_row(sqlite_connection& db, const claim_job& claim)
{
    // One statement that picks and takes the job, so that an engine shared by several daemons can do the same
    // with its own row locking (PostgreSQL: FOR UPDATE SKIP LOCKED in the subquery). Projects after the one
    // last served come first, in project order (round-robin), and within a project the oldest job. A project
    // another owner holds a live lease in stays that owner's (as on PostgreSQL). Each half walks jobs_pending in
    // its order and stops at the first job it may take, and the held projects are found once through
    // jobs_leased: the claim costs about a millisecond with 10,000 queued jobs (the one-statement form with a
    // correlated NOT EXISTS and an ORDER BY on an expression took a minute there).
    static const std::string pick_in = "SELECT id FROM jobs INDEXED BY jobs_pending "
                                       "WHERE status IN ('queued', 'running') "
                                       "AND (lease_owner IS NULL OR lease_expires_at <= ?3) "
                                       "AND project_id NOT IN (SELECT value FROM json_each(?4)) "
                                       "AND project_id NOT IN (SELECT project_id FROM jobs INDEXED BY jobs_leased "
                                       "WHERE lease_owner IS NOT NULL AND status IN ('queued', 'running') "
                                       "AND lease_owner <> ?1 AND lease_expires_at > ?3) AND ";
    static const std::string sql =
        "UPDATE jobs SET lease_owner = ?1, lease_expires_at = ?2 WHERE id = (SELECT id FROM ("
        "SELECT id, 0 AS pass FROM (" + pick_in + "project_id > ?5 ORDER BY project_id, id LIMIT 1) UNION ALL "
        "SELECT id, 1 AS pass FROM (" + pick_in + "project_id <= ?5 ORDER BY project_id, id LIMIT 1)"
        ") ORDER BY pass LIMIT 1) RETURNING " + job_column_list;
    boost::json::array skip;
    for (std::int64_t p : claim.skip_projects)
        skip.push_back(p);
    auto q = db.query(sql, claim.owner, claim.lease_until, claim.now, boost::json::serialize(skip),
                      claim.after_project_id);
    if (!q.step())
        return std::nullopt;
    return read_job(q);
}

namespace {
// The refusal of a write to a job whose lease owner no longer holds: another daemon claimed it after the lease
// ran out, and the job's rows are that daemon's to apply now.
api_error lease_lost(const std::string& job_id)
{
    return {errc::conflict, "lease_lost",
            "the lease on job " + job_id + " ran out and another daemon holds the job now", {}};
}
} // namespace

namespace {
// Why owner's write to a job was refused: the job's cancel was asked for (the runner is to end it), or its lease
// is another daemon's now.
api_error refusal_of(sqlite_connection& db, const std::string& job_id)
{
    auto q = db.query("SELECT cancel_requested_at FROM jobs WHERE job_id = ? AND status IN ('queued', 'running')",
                      job_id);
    if (q.step() && q.optional_int64(0))
        return job_cancelled(job_id);
    return lease_lost(job_id);
}
} // namespace

std::optional<api_error> advance_job_row(sqlite_connection& db, const advance_job& a)
{
    db.query("UPDATE jobs SET checkpoint_offset = ?1, checkpoint_line = ?2, processed_rows = ?3, failed_rows = ?4, "
             "status = CASE WHEN ?5 IS NULL THEN status ELSE 'running' END, "
             "started_at = coalesce(started_at, ?5), lease_expires_at = ?7, processing_ms = ?9 "
             "WHERE job_id = ?8 AND lease_owner = ?6 AND cancel_requested_at IS NULL",
             a.checkpoint_offset, a.checkpoint_line, a.processed_rows, a.failed_rows, a.started_at, a.owner,
             a.lease_until, a.job_id, a.processing_ms)
        .run();
    if (db.changes() == 0)
        return refusal_of(db, a.job_id);
    for (const auto& e : a.errors)
        db.query("INSERT OR REPLACE INTO job_errors(job_id, line, row_id, field, message) "
                 "VALUES ((SELECT id FROM jobs WHERE job_id = ?), ?, ?, ?, ?)",
                 a.job_id, e.line, e.row_id, e.field, e.message)
            .run();
    return std::nullopt;
}

std::optional<api_error> renew_job_lease_row(sqlite_connection& db, const renew_job_lease& r)
{
    db.query("UPDATE jobs SET lease_expires_at = ?, processing_ms = coalesce(?, processing_ms) "
             "WHERE job_id = ? AND lease_owner = ? AND status IN ('queued', 'running') AND cancel_requested_at IS NULL",
             r.lease_until, r.processing_ms, r.job_id, r.owner)
        .run();
    if (db.changes() == 0)
        return refusal_of(db, r.job_id);
    return std::nullopt;
}

std::optional<api_error> finish_job_row(sqlite_connection& db, const finish_job& f)
{
    if (!f.owner) {
        db.query("UPDATE jobs SET status = ?, error = ?, finished_at = ?, lease_owner = NULL, lease_expires_at = NULL, "
                 "processing_ms = coalesce(?, processing_ms) WHERE job_id = ?",
                 to_string(f.status), f.error, f.now, f.processing_ms, f.job_id)
            .run();
        if (db.changes() > 0)
            insert_job_deliveries(db, f.job_id, f.status, f.now);
        return std::nullopt;
    }
    db.query("UPDATE jobs SET status = ?, error = ?, finished_at = ?, lease_owner = NULL, lease_expires_at = NULL, "
             "processing_ms = coalesce(?, processing_ms) "
             "WHERE job_id = ? AND lease_owner = ? AND status IN ('queued', 'running')",
             to_string(f.status), f.error, f.now, f.processing_ms, f.job_id, *f.owner)
        .run();
    if (db.changes() == 0)
        return lease_lost(f.job_id);
    insert_job_deliveries(db, f.job_id, f.status, f.now);
    return std::nullopt;
}

operation_outcome cancel_job_row(sqlite_connection& db, const cancel_job& c)
{
    operation_outcome out;
    std::optional<job_status> status;
    bool unleased = false;
    {
        auto q = db.query("SELECT status, lease_owner IS NULL OR lease_expires_at <= ? FROM jobs "
                          "WHERE project_id = ? AND job_id = ?",
                          c.now, c.project_id, c.job_id);
        if (!q.step()) {
            out.refused = not_found("job", c.job_id);
            return out;
        }
        status = parse_job_status(q.text(0));
        unleased = q.int64(1) != 0;
    }
    if (status != job_status::queued && status != job_status::running) {
        out.refused = job_finished(c.job_id, status.value_or(job_status::failed));
        return out;
    }
    // One writer at a time (BEGIN IMMEDIATE): the job cannot change between the read above and these writes.
    db.query("UPDATE jobs SET cancel_requested_at = coalesce(cancel_requested_at, ?) WHERE job_id = ?", c.now,
             c.job_id)
        .run();
    // No daemon is working on it (a claimed job that has not started yet has applied nothing either): it ends now.
    if (status == job_status::queued || unleased)
        finish_job_row(db, cancelled_finish(c.job_id, c.now));
    auto q = db.query(job_columns + "WHERE job_id = ?", c.job_id);
    if (q.step())
        out.job = read_job(q);
    return out;
}

int clear_job_leases(sqlite_connection& db)
{
    db.query("UPDATE jobs SET lease_owner = NULL, lease_expires_at = NULL WHERE lease_owner IS NOT NULL").run();
    return db.changes();
}

} // namespace profiled
