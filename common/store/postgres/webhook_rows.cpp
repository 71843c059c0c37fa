#include "common/store/postgres/webhook_rows.hpp"

#include <fmt/format.h>

#include "common/store/page_cursor.hpp"
#include "common/store/postgres/postgres.hpp"
#include "common/store/postgres/postgres_rows.hpp"

namespace profiled {

namespace {

constexpr const char* webhook_columns =
    "SELECT webhook_id, project_id, url, on_done::int, on_failed::int, secret, created_at FROM webhooks ";

// Row i of a result selected with webhook_columns.
webhook_record read_webhook_row(const pg_rows& r, int i)
{
    return {r.text(i, 0),       r.int64(i, 1), r.text(i, 2), r.int64(i, 3) != 0,
            r.int64(i, 4) != 0, r.text(i, 5),  r.int64(i, 6)};
}

// The refusal of a delivery attempt by a daemon that no longer holds the delivery.
api_error delivery_lease_lost(const std::string& delivery_id)
{
    return {errc::conflict, "lease_lost", "delivery " + delivery_id + " is no longer this daemon's", {}};
}

} // namespace

std::optional<api_error> pg_create_webhook(pg_connection& db, const create_webhook& c)
{
    const webhook_record& w = c.webhook;
    // The project's row locked first: two daemons registering at once cannot both pass the limit.
    db.query("SELECT id FROM projects WHERE id = $1 FOR UPDATE", w.project_id);
    auto count = db.query("SELECT count(*) FROM webhooks WHERE project_id = $1", w.project_id);
    if (count.int64(0, 0) >= c.max_per_project)
        return api_error{errc::conflict,
                         "webhook_limit",
                         fmt::format("a project may have at most {} webhooks; delete one first", c.max_per_project),
                         {}};
    db.query("INSERT INTO webhooks (webhook_id, project_id, url, on_done, on_failed, secret, created_at) "
             "VALUES ($1, $2, $3, $4::boolean, $5::boolean, $6, $7)",
             w.webhook_id, w.project_id, w.url, w.on_done ? "true" : "false", w.on_failed ? "true" : "false", w.secret,
             w.created_at);
    return std::nullopt;
}

std::int64_t pg_delete_webhook(pg_connection& db, const delete_webhook& d)
{
    // Deliveries and their attempts go with it (ON DELETE CASCADE).
    auto gone = db.query("DELETE FROM webhooks WHERE project_id = $1 AND webhook_id = $2", d.project_id, d.webhook_id);
    return gone.affected();
}

std::vector<delivery_task> pg_claim_deliveries(pg_connection& db, const claim_deliveries& c)
{
    auto r = db.query(
        std::string("WITH claimed AS (UPDATE webhook_deliveries SET lease_owner = $1, lease_expires_at = $2 "
                    "WHERE id IN (SELECT id FROM webhook_deliveries WHERE state = 'pending' AND next_attempt_at <= $3 "
                    "AND (lease_owner IS NULL OR lease_expires_at < $3 OR ($5::boolean AND lease_owner = $1)) "
                    "ORDER BY next_attempt_at, id LIMIT $4 "
                    "FOR UPDATE SKIP LOCKED) "
                    "RETURNING id, delivery_id, event, created_at, attempts, webhook_id, job_id) "
                    "SELECT j.*, c.delivery_id, c.event, c.created_at, c.attempts, w.url, w.secret, w.project_id "
                    "FROM claimed c JOIN webhooks w ON w.id = c.webhook_id "
                    "JOIN LATERAL (SELECT ") +
            pg_job_column_list + " FROM jobs WHERE jobs.job_id = c.job_id) j ON true ORDER BY c.id",
        c.owner, c.lease_until, c.now, static_cast<std::int64_t>(c.limit), c.take_back_own ? "true" : "false");
    std::vector<delivery_task> out;
    constexpr int at = pg_job_column_count;
    for (int i = 0; i < r.size(); ++i) {
        out.push_back({r.text(i, at), r.text(i, at + 1), r.int64(i, at + 2), r.int64(i, at + 3), r.text(i, at + 4),
                       r.text(i, at + 5), r.int64(i, at + 6), pg_read_job(r, i)});
    }
    return out;
}

std::optional<api_error> pg_record_delivery_attempt(pg_connection& db, const record_delivery_attempt& r)
{
    auto updated = db.query("UPDATE webhook_deliveries SET state = $1, attempts = $2, next_attempt_at = $3, "
                            "lease_owner = NULL, lease_expires_at = NULL "
                            "WHERE delivery_id = $4 AND lease_owner = $5 AND state = 'pending' RETURNING id",
                            std::string(to_string(r.state)), r.attempt, r.next_attempt_at, r.delivery_id, r.owner);
    if (updated.empty())
        return delivery_lease_lost(r.delivery_id);
    db.query("INSERT INTO webhook_attempts (delivery_id, attempt, status_code, error, at) VALUES ($1, $2, $3, $4, $5)",
             updated.int64(0, 0), r.attempt, r.status_code, r.error, r.at);
    return std::nullopt;
}

std::vector<webhook_record> pg_read_webhooks(pg_connection& db, std::int64_t project_id)
{
    auto r = db.query(std::string(webhook_columns) + "WHERE project_id = $1 ORDER BY id", project_id);
    std::vector<webhook_record> out;
    for (int i = 0; i < r.size(); ++i)
        out.push_back(read_webhook_row(r, i));
    return out;
}

std::optional<webhook_record> pg_read_webhook(pg_connection& db, std::int64_t project_id, const std::string& id)
{
    auto r = db.query(std::string(webhook_columns) + "WHERE project_id = $1 AND webhook_id = $2", project_id, id);
    if (r.empty())
        return std::nullopt;
    return read_webhook_row(r, 0);
}

std::optional<delivery_attempt_page> pg_read_delivery_attempts(pg_connection& db, std::int64_t project_id,
                                                               const std::string& webhook_id,
                                                               const std::optional<std::string>& cursor, int limit)
{
    std::int64_t below = INT64_MAX;
    if (cursor) {
        auto position = decode_page_cursor(cursor_kind::webhook_attempts, *cursor);
        if (!position)
            return std::nullopt;
        below = *position;
    }
    auto r = db.query("SELECT a.id, d.delivery_id, d.event, d.job_id, a.attempt, a.status_code, a.error, a.at, d.state "
                      "FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id "
                      "JOIN webhooks w ON w.id = d.webhook_id "
                      "WHERE w.project_id = $1 AND w.webhook_id = $2 AND a.id < $3 ORDER BY a.id DESC LIMIT $4",
                      project_id, webhook_id, below, static_cast<std::int64_t>(limit) + 1);
    delivery_attempt_page page;
    for (int i = 0; i < r.size(); ++i)
        page.attempts.push_back({r.int64(i, 0), r.text(i, 1), r.text(i, 2), r.text(i, 3), r.int64(i, 4),
                                 r.optional_int64(i, 5), r.optional_text(i, 6), r.int64(i, 7),
                                 parse_delivery_state(r.text(i, 8))});
    if (static_cast<int>(page.attempts.size()) > limit) {
        page.attempts.pop_back();
        page.next_cursor = encode_page_cursor(cursor_kind::webhook_attempts, page.attempts.back().row_id);
    }
    return page;
}

delivery_backlog pg_read_delivery_backlog(pg_connection& db, std::int64_t now)
{
    auto r = db.query("SELECT count(*), min(CASE WHEN lease_owner IS NULL OR lease_expires_at < $1 "
                      "THEN next_attempt_at END) FROM webhook_deliveries WHERE state = 'pending'",
                      now);
    return {r.int64(0, 0), r.optional_int64(0, 1)};
}

} // namespace profiled
