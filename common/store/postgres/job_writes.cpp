#include "common/store/postgres/job_writes.hpp"

#include <stdexcept>

#include <fmt/format.h>

#include "common/store/job_cancel.hpp"
#include "common/store/postgres/postgres_rows.hpp"
#include "common/store/postgres/spool_pieces.hpp"
#include "common/store/postgres/webhook_outbox.hpp"

namespace profiled {

namespace {

// The first key of the advisory locks taken while claiming a project's job ("prof" in ASCII); the second is the
// project. The two-key form never meets the one-key migration lock.
constexpr int project_claim_lock = 0x70726f66;

// The refusal of a write to a job whose lease owner no longer holds: another daemon claimed it after the lease
// ran out, and the job's rows are that daemon's to apply now.
api_error lease_lost(const std::string& job_id)
{
    return {errc::conflict,
            "lease_lost",
            "the lease on job " + job_id + " ran out and another daemon holds the job now",
            {}};
}

} // namespace

operation_outcome pg_insert_job(pg_connection& db, const insert_job& insert)
{
    const job_record& j = insert.job;
    operation_outcome out;
    std::optional<std::string> digest;
    if (j.idempotency_key) {
        digest = insert.upload_sha256;
        db.query("UPDATE jobs SET idempotency_key = NULL WHERE project_id = $1 AND idempotency_key = $2 "
                 "AND submitted_at < $3",
                 j.project_id, *j.idempotency_key, insert.idempotency_not_before);
    }
    // Only a clash on the idempotency key is an answer; a writer inserting the same key at once waits for this
    // one, then inserts nothing and finds this job.
    auto inserted = db.query("INSERT INTO jobs(job_id, project_id, type, status, filename, file_size, total_rows, "
                             "idempotency_key, idempotency_sha256, submitted_at) "
                             "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) "
                             "ON CONFLICT (project_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING",
                             j.job_id, j.project_id, to_string(j.type), to_string(j.status), j.filename, j.file_size,
                             j.total_rows, j.idempotency_key, digest, j.submitted_at);
    if (inserted.affected() != 0) {
        if (insert.last_piece)
            out.refused = pg_seal_upload(db, *insert.last_piece, j.submitted_at);
        return out;
    }
    if (!j.idempotency_key)
        throw std::logic_error("a job without an idempotency key was not inserted");
    out.earlier_job = pg_find_job_by_key(db, j.project_id, *j.idempotency_key, insert.idempotency_not_before);
    if (!out.earlier_job)
        throw std::logic_error("a job holds the idempotency key but cannot be found");
    return out;
}

std::optional<job_record> pg_claim_job(pg_connection& db, const claim_job& claim)
{
    std::vector<pg_param> skip;
    for (std::int64_t p : claim.skip_projects)
        skip.push_back(std::to_string(p));
    // A project whose job another daemon holds a live lease on is that daemon's until the lease ends, so that
    // the project's row rate is applied by one daemon at a time: the cluster's rate is the configured one. Asked
    // once per project (not per queued job: a backlog of thousands would make every claim quadratic).
    static const std::string unleased = "status IN ('queued', 'running') "
                                        "AND (lease_owner IS NULL OR lease_expires_at <= $2) ";
    static constexpr const char* held_elsewhere = "EXISTS (SELECT 1 FROM jobs o WHERE o.project_id = {} "
                                              "AND o.status IN ('queued', 'running') AND o.lease_owner <> $1 "
                                              "AND o.lease_expires_at > $2) ";
    // The same order as the SQLite claim: projects after the one last served first, in project order
    // (round-robin), and within a project the oldest job.
    static const std::string candidates =
        "SELECT p.project_id FROM (SELECT DISTINCT project_id FROM jobs WHERE " + unleased +
        "AND NOT (project_id = ANY ($3::bigint[]))) p WHERE NOT " + fmt::format(fmt::runtime(held_elsewhere), "p.project_id") +
        "ORDER BY p.project_id <= $4, p.project_id LIMIT 8";
    // Another daemon claiming a job of the same project at this moment holds this lock until its claim commits,
    // and the check for a live lease runs after taking it, in a statement of its own (a fresh snapshot that sees
    // every claim committed before), so two daemons never both take a project.
    static const std::string lock_project = "SELECT pg_try_advisory_xact_lock($1, ($2::bigint % 2147483647)::integer)";
    static const std::string take = "UPDATE jobs SET lease_owner = $1, lease_expires_at = $4 WHERE id = ("
                                    "SELECT id FROM jobs WHERE project_id = $3 AND " +
                                    unleased + "AND NOT " + fmt::format(fmt::runtime(held_elsewhere), "$3") +
                                    "ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING " + pg_job_column_list;
    auto projects = db.query(candidates, claim.owner, claim.now, array_literal(skip), claim.after_project_id);
    for (int i = 0; i < projects.size(); ++i) {
        std::int64_t project_id = projects.int64(i, 0);
        if (db.query(lock_project, project_claim_lock, project_id).text(0, 0) != "t")
            continue;
        auto r = db.query(take, claim.owner, claim.now, project_id, claim.lease_until);
        if (!r.empty())
            return pg_read_job(r, 0);
    }
    return std::nullopt;
}

namespace {
// Why owner's write to a job was refused: the job's cancel was asked for (the runner is to end it), or its lease
// is another daemon's now.
api_error refusal_of(pg_connection& db, const std::string& job_id)
{
    auto r = db.query("SELECT 1 FROM jobs WHERE job_id = $1 AND status IN ('queued', 'running') "
                      "AND cancel_requested_at IS NOT NULL",
                      job_id);
    return r.empty() ? lease_lost(job_id) : job_cancelled(job_id);
}
} // namespace

std::optional<api_error> pg_advance_job(pg_connection& db, const advance_job& a)
{
    auto updated = db.query(
        "UPDATE jobs SET checkpoint_offset = $1, checkpoint_line = $2, processed_rows = $3, failed_rows = $4, "
        "status = CASE WHEN $5::bigint IS NULL THEN status ELSE 'running' END, "
        "started_at = coalesce(started_at, $5::bigint), lease_expires_at = $7, processing_ms = $9 "
        "WHERE job_id = $8 AND lease_owner = $6 AND cancel_requested_at IS NULL RETURNING id",
        a.checkpoint_offset, a.checkpoint_line, a.processed_rows, a.failed_rows, a.started_at, a.owner, a.lease_until,
        a.job_id, a.processing_ms);
    if (updated.empty())
        return refusal_of(db, a.job_id);
    if (a.errors.empty())
        return std::nullopt;
    // Every row error of the chunk in one statement; a line recorded before (a chunk run again) is replaced.
    std::vector<pg_param> lines, row_ids, fields, messages;
    for (const auto& e : a.errors) {
        lines.push_back(std::to_string(e.line));
        row_ids.push_back(e.row_id);
        fields.push_back(e.field);
        messages.push_back(e.message);
    }
    db.query("INSERT INTO job_errors(job_id, line, row_id, field, message) "
             "SELECT DISTINCT ON (line) $1::bigint, line, row_id, field, message FROM unnest($2::bigint[], $3::text[], "
             "$4::text[], $5::text[]) WITH ORDINALITY AS e(line, row_id, field, message, n) ORDER BY line, n DESC "
             "ON CONFLICT (job_id, line) DO UPDATE SET row_id = excluded.row_id, field = excluded.field, "
             "message = excluded.message",
             updated.int64(0, 0), array_literal(lines), array_literal(row_ids), array_literal(fields),
             array_literal(messages));
    return std::nullopt;
}

std::optional<api_error> pg_renew_job_lease(pg_connection& db, const renew_job_lease& r)
{
    auto renewed = db.query("UPDATE jobs SET lease_expires_at = $1, processing_ms = coalesce($4::bigint, processing_ms) "
                            "WHERE job_id = $2 AND lease_owner = $3 AND status IN ('queued', 'running') "
                            "AND cancel_requested_at IS NULL",
                            r.lease_until, r.job_id, r.owner, r.processing_ms);
    if (renewed.affected() == 0)
        return refusal_of(db, r.job_id);
    return std::nullopt;
}

std::optional<api_error> pg_finish_job(pg_connection& db, const finish_job& f)
{
    if (f.owner) {
        auto ended = db.query("UPDATE jobs SET status = $1, error = $2, finished_at = $3, lease_owner = NULL, "
                              "lease_expires_at = NULL, processing_ms = coalesce($6::bigint, processing_ms) "
                              "WHERE job_id = $4 AND lease_owner = $5 AND status IN ('queued', 'running') RETURNING id",
                              to_string(f.status), f.error, f.now, f.job_id, *f.owner, f.processing_ms);
        if (ended.empty())
            return lease_lost(f.job_id);
        pg_insert_job_deliveries(db, f.job_id, f.status, f.now);
    } else {
        auto ended = db.query("UPDATE jobs SET status = $1, error = $2, finished_at = $3, lease_owner = NULL, "
                              "lease_expires_at = NULL, processing_ms = coalesce($5::bigint, processing_ms) "
                              "WHERE job_id = $4",
                              to_string(f.status), f.error, f.now, f.job_id, f.processing_ms);
        if (ended.affected() > 0)
            pg_insert_job_deliveries(db, f.job_id, f.status, f.now);
    }
    pg_remove_upload(db, f.job_id);
    return std::nullopt;
}

operation_outcome pg_cancel_job(pg_connection& db, const cancel_job& c)
{
    operation_outcome out;
    // The row stays locked until the commit: a daemon advancing the job meanwhile waits, then sees the request
    // (and the job's end, when it ends here).
    auto found = db.query("SELECT status, lease_owner IS NULL OR lease_expires_at <= $3 FROM jobs "
                          "WHERE project_id = $1 AND job_id = $2 FOR UPDATE",
                          c.project_id, c.job_id, c.now);
    if (found.empty()) {
        out.refused = not_found("job", c.job_id);
        return out;
    }
    auto status = parse_job_status(found.text(0, 0));
    if (status != job_status::queued && status != job_status::running) {
        out.refused = job_finished(c.job_id, status.value_or(job_status::failed));
        return out;
    }
    db.query("UPDATE jobs SET cancel_requested_at = coalesce(cancel_requested_at, $1) WHERE job_id = $2", c.now,
             c.job_id);
    // No daemon is working on it (a claimed job that has not started yet has applied nothing either): it ends now.
    if (status == job_status::queued || found.text(0, 1) == "t")
        pg_finish_job(db, cancelled_finish(c.job_id, c.now));
    static const std::string sql = std::string("SELECT ") + pg_job_column_list + " FROM jobs WHERE job_id = $1";
    auto after = db.query(sql, c.job_id);
    if (!after.empty())
        out.job = pg_read_job(after, 0);
    return out;
}

} // namespace profiled
