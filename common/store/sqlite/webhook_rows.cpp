#include "common/store/sqlite/webhook_rows.hpp"

#include <fmt/format.h>

#include "common/store/page_cursor.hpp"
#include "common/store/sqlite/sqlite.hpp"
#include "common/store/sqlite/stored_rows.hpp"

namespace profiled {

namespace {

constexpr const char* webhook_columns =
    "SELECT webhook_id, project_id, url, on_done, on_failed, secret, created_at FROM webhooks ";

// A webhooks row selected with webhook_columns.
webhook_record read_webhook_row(const sqlite_query& q)
{
    return {q.text(0), q.int64(1), q.text(2), q.int64(3) != 0, q.int64(4) != 0, q.text(5), q.int64(6)};
}

// The refusal of a delivery attempt by a daemon that no longer holds the delivery.
api_error delivery_lease_lost(const std::string& delivery_id)
{
    return {errc::conflict, "lease_lost", "delivery " + delivery_id + " is no longer this daemon's", {}};
}

} // namespace

std::optional<api_error> create_webhook_row(sqlite_connection& db, const create_webhook& c)
{
    const webhook_record& w = c.webhook;
    auto count = db.query("SELECT count(*) FROM webhooks WHERE project_id = ?", w.project_id);
    count.step();
    if (count.int64(0) >= c.max_per_project)
        return api_error{errc::conflict,
                         "webhook_limit",
                         fmt::format("a project may have at most {} webhooks; delete one first", c.max_per_project),
                         {}};
    db.query("INSERT INTO webhooks (webhook_id, project_id, url, on_done, on_failed, secret, created_at) "
             "VALUES (?, ?, ?, ?, ?, ?, ?)",
             w.webhook_id, w.project_id, w.url, static_cast<std::int64_t>(w.on_done),
             static_cast<std::int64_t>(w.on_failed), w.secret, w.created_at)
        .run();
    return std::nullopt;
}

std::int64_t delete_webhook_row(sqlite_connection& db, const delete_webhook& d)
{
    // Deliveries and their attempts go with it (ON DELETE CASCADE).
    db.query("DELETE FROM webhooks WHERE project_id = ? AND webhook_id = ?", d.project_id, d.webhook_id).run();
    return db.changes();
}

std::vector<delivery_task> claim_delivery_rows(sqlite_connection& db, const claim_deliveries& c)
{
    std::vector<std::int64_t> ids;
    {
        auto due = db.query("SELECT id FROM webhook_deliveries WHERE state = 'pending' AND next_attempt_at <= ? "
                            "AND (lease_owner IS NULL OR lease_expires_at < ? OR (? AND lease_owner = ?)) "
                            "ORDER BY next_attempt_at, id LIMIT ?",
                            c.now, c.now, static_cast<std::int64_t>(c.take_back_own), c.owner,
                            static_cast<std::int64_t>(c.limit));
        while (due.step())
            ids.push_back(due.int64(0));
    }
    std::vector<delivery_task> out;
    for (std::int64_t id : ids) {
        db.query("UPDATE webhook_deliveries SET lease_owner = ?, lease_expires_at = ? WHERE id = ?", c.owner,
                 c.lease_until, id)
            .run();
        auto q = db.query("SELECT d.delivery_id, d.event, d.created_at, d.attempts, w.url, w.secret, w.project_id, "
                          "j.job_id FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id "
                          "JOIN jobs j ON j.job_id = d.job_id WHERE d.id = ?",
                          id);
        if (!q.step())
            continue;
        delivery_task t{q.text(0), q.text(1), q.int64(2), q.int64(3), q.text(4), q.text(5), q.int64(6), {}};
        std::string job_id = q.text(7);
        auto job = db.query(std::string(job_columns) + "WHERE job_id = ?", job_id);
        if (!job.step())
            continue;
        t.job = read_job(job);
        out.push_back(std::move(t));
    }
    return out;
}

std::optional<api_error> record_delivery_attempt_row(sqlite_connection& db, const record_delivery_attempt& r)
{
    db.query("UPDATE webhook_deliveries SET state = ?, attempts = ?, next_attempt_at = ?, lease_owner = NULL, "
             "lease_expires_at = NULL WHERE delivery_id = ? AND lease_owner = ? AND state = 'pending'",
             to_string(r.state), r.attempt, r.next_attempt_at, r.delivery_id, r.owner)
        .run();
    if (db.changes() == 0)
        return delivery_lease_lost(r.delivery_id);
    db.query("INSERT INTO webhook_attempts (delivery_id, attempt, status_code, error, at) "
             "VALUES ((SELECT id FROM webhook_deliveries WHERE delivery_id = ?), ?, ?, ?, ?)",
             r.delivery_id, r.attempt, r.status_code, r.error, r.at)
        .run();
    return std::nullopt;
}

std::vector<webhook_record> read_webhooks(sqlite_connection& db, std::int64_t project_id)
{
    std::vector<webhook_record> out;
    auto q = db.query(std::string(webhook_columns) + "WHERE project_id = ? ORDER BY id", project_id);
    while (q.step())
        out.push_back(read_webhook_row(q));
    return out;
}

std::optional<webhook_record> read_webhook(sqlite_connection& db, std::int64_t project_id, const std::string& id)
{
    auto q = db.query(std::string(webhook_columns) + "WHERE project_id = ? AND webhook_id = ?", project_id, id);
    if (!q.step())
        return std::nullopt;
    return read_webhook_row(q);
}

std::optional<delivery_attempt_page> read_delivery_attempts(sqlite_connection& db, std::int64_t project_id,
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
    delivery_attempt_page page;
    auto q = db.query("SELECT a.id, d.delivery_id, d.event, d.job_id, a.attempt, a.status_code, a.error, a.at, d.state "
                      "FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id "
                      "JOIN webhooks w ON w.id = d.webhook_id "
                      "WHERE w.project_id = ? AND w.webhook_id = ? AND a.id < ? ORDER BY a.id DESC LIMIT ?",
                      project_id, webhook_id, below, static_cast<std::int64_t>(limit) + 1);
    while (q.step())
        page.attempts.push_back({q.int64(0), q.text(1), q.text(2), q.text(3), q.int64(4), q.optional_int64(5),
                                 q.optional_text(6), q.int64(7), parse_delivery_state(q.text(8))});
    if (static_cast<int>(page.attempts.size()) > limit) {
        page.attempts.pop_back();
        page.next_cursor = encode_page_cursor(cursor_kind::webhook_attempts, page.attempts.back().row_id);
    }
    return page;
}

delivery_backlog read_delivery_backlog(sqlite_connection& db, std::int64_t now)
{
    auto q = db.query("SELECT count(*), min(CASE WHEN lease_owner IS NULL OR lease_expires_at < ? "
                      "THEN next_attempt_at END) FROM webhook_deliveries WHERE state = 'pending'",
                      now);
    q.step();
    return {q.int64(0), q.optional_int64(1)};
}

} // namespace profiled
