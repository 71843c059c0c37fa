#include "common/store/postgres/postgres_reader.hpp"

#include <charconv>
#include <thread>

#include <boost/json/parse.hpp>

#include "common/store/postgres/postgres.hpp"
#include "common/store/postgres/postgres_rows.hpp"
#include "common/store/postgres/profile_pages.hpp"
#include "common/store/postgres/webhook_rows.hpp"

namespace profiled {
namespace {

// A page cursor: the prefix naming what it pages, then a decimal position (a jobs id, a job_errors line).
std::string encode_cursor(char prefix, std::int64_t position)
{
    return std::string(1, prefix) + std::to_string(position);
}

// The position of a cursor made by encode_cursor with this prefix, or nothing for any other text.
std::optional<std::int64_t> decode_cursor(char prefix, const std::string& cursor, std::int64_t min)
{
    if (cursor.size() < 2 || cursor[0] != prefix || cursor[1] == '+' || cursor[1] == '-')
        return std::nullopt;
    std::int64_t position = 0;
    const char* end = cursor.data() + cursor.size();
    auto [at, ec] = std::from_chars(cursor.data() + 1, end, position);
    if (ec != std::errc() || at != end || position < min)
        return std::nullopt;
    return position;
}

constexpr char jobs_cursor = 'j';
constexpr char job_errors_cursor = 'l';

// Each query is a statement of its own (autocommit), so a reader never holds a snapshot between requests.
class postgres_reader final : public store_reader {
public:
    explicit postgres_reader(const std::string& url) : db_(url) {}

    std::optional<api_key_record> find_key(const std::string& key_hash) override
    {
        auto r = query(std::string(pg_key_columns) + "WHERE k.key_hash = $1", key_hash);
        if (r.empty())
            return std::nullopt;
        return pg_read_key(r, 0);
    }

    std::vector<api_key_record> list_keys() override
    {
        auto r = query(std::string(pg_key_columns) + "ORDER BY p.name COLLATE \"C\", k.id");
        std::vector<api_key_record> out;
        for (int i = 0; i < r.size(); ++i)
            out.push_back(pg_read_key(r, i));
        return out;
    }

    std::optional<user_profile> find_user(std::int64_t project_id, const std::string& user_id) override
    {
        return retried_if_lost([&] { return pg_find_user_with_aliases(db_, project_id, user_id); });
    }

    std::optional<company_profile> find_company(std::int64_t project_id, const std::string& company_id) override
    {
        auto r = query("SELECT company_id, properties::text, created_at, updated_at FROM companies "
                       "WHERE project_id = $1 AND company_id = $2",
                       project_id, company_id);
        if (r.empty())
            return std::nullopt;
        company_profile c{r.text(0, 0), {}, r.int64(0, 2), r.int64(0, 3)};
        boost::system::error_code ec;
        auto v = boost::json::parse(r.text(0, 1), ec);
        if (!ec && v.is_object())
            c.properties = std::move(v.as_object());
        return c;
    }

    std::optional<job_record> find_job(std::int64_t project_id, const std::string& job_id) override
    {
        auto r = query(job_columns() + "WHERE job_id = $1 AND project_id = $2", job_id, project_id);
        if (r.empty())
            return std::nullopt;
        return pg_read_job(r, 0);
    }

    std::optional<job_record> find_job_by_idempotency_key(std::int64_t project_id, const std::string& key,
                                                          std::int64_t not_before) override
    {
        auto found = retried_if_lost([&] { return pg_find_job_by_key(db_, project_id, key, not_before); });
        if (!found)
            return std::nullopt;
        return std::move(found->job);
    }

    std::optional<job_page> list_jobs(std::int64_t project_id, std::optional<job_status> status,
                                      const std::optional<std::string>& cursor, int limit) override
    {
        std::optional<std::int64_t> below;
        if (cursor && !(below = decode_cursor(jobs_cursor, *cursor, 1)))
            return std::nullopt;
        std::optional<std::string> status_name;
        if (status)
            status_name = to_string(*status);
        auto r = query(job_columns() + "WHERE project_id = $1 AND ($2::text IS NULL OR status = $2) "
                                       "AND ($3::bigint IS NULL OR id < $3) ORDER BY id DESC LIMIT $4",
                       project_id, status_name, below, static_cast<std::int64_t>(limit) + 1);
        job_page page;
        for (int i = 0; i < r.size(); ++i) {
            if (static_cast<int>(page.jobs.size()) == limit) {
                page.next_cursor = encode_cursor(jobs_cursor, r.int64(i - 1, 0));
                break;
            }
            page.jobs.push_back(pg_read_job(r, i));
        }
        return page;
    }

    std::optional<job_error_page> list_job_errors(const std::string& job_id, const std::optional<std::string>& cursor,
                                                  int limit) override
    {
        std::int64_t after_line = 0;
        if (cursor) {
            auto line = decode_cursor(job_errors_cursor, *cursor, 0);
            if (!line)
                return std::nullopt;
            after_line = *line;
        }
        auto r = query("SELECT line, row_id, field, message FROM job_errors WHERE job_id = "
                       "(SELECT id FROM jobs WHERE job_id = $1) AND line > $2 ORDER BY line LIMIT $3",
                       job_id, after_line, static_cast<std::int64_t>(limit) + 1);
        job_error_page page;
        for (int i = 0; i < r.size(); ++i)
            page.errors.push_back({r.int64(i, 0), r.text(i, 1), r.text(i, 2), r.text(i, 3)});
        if (static_cast<int>(page.errors.size()) > limit) {
            page.errors.pop_back();
            page.next_cursor = encode_cursor(job_errors_cursor, page.errors.back().line);
        }
        return page;
    }

    std::optional<user_page> list_users(std::int64_t project_id, const std::optional<std::string>& cursor,
                                        std::optional<std::int64_t> updated_since, int limit) override
    {
        db_.reconnect_if_lost();
        return pg_read_user_page(db_, project_id, cursor, updated_since, limit);
    }

    std::optional<company_page> list_companies(std::int64_t project_id, const std::optional<std::string>& cursor,
                                               std::optional<std::int64_t> updated_since, int limit) override
    {
        db_.reconnect_if_lost();
        return pg_read_company_page(db_, project_id, cursor, updated_since, limit);
    }

    std::vector<job_record> unfinished_jobs() override
    {
        return jobs_of(query(job_columns() + "WHERE status IN ('queued', 'running') ORDER BY id"));
    }

    std::vector<job_record> list_all_jobs(int limit) override
    {
        return jobs_of(query(job_columns() + "ORDER BY id DESC LIMIT $1", static_cast<std::int64_t>(limit)));
    }

    std::vector<webhook_record> list_webhooks(std::int64_t project_id) override
    {
        return retried_if_lost([&] { return pg_read_webhooks(db_, project_id); });
    }

    std::optional<webhook_record> find_webhook(std::int64_t project_id, const std::string& webhook_id) override
    {
        return retried_if_lost([&] { return pg_read_webhook(db_, project_id, webhook_id); });
    }

    std::optional<delivery_attempt_page> list_delivery_attempts(std::int64_t project_id, const std::string& webhook_id,
                                                                const std::optional<std::string>& cursor,
                                                                int limit) override
    {
        return retried_if_lost([&] { return pg_read_delivery_attempts(db_, project_id, webhook_id, cursor, limit); });
    }

    delivery_backlog webhook_backlog(std::int64_t now) override
    {
        return retried_if_lost([&] { return pg_read_delivery_backlog(db_, now); });
    }

    std::int64_t count_jobs(job_status status) override
    {
        return query("SELECT count(*) FROM jobs WHERE status = $1", to_string(status)).int64(0, 0);
    }

    job_backlog read_job_backlog() override
    {
        auto r = query("SELECT coalesce(sum(total_rows - processed_rows) FILTER (WHERE status = 'queued'), 0)::bigint, "
                       "coalesce(sum(total_rows - processed_rows) FILTER (WHERE status = 'running'), 0)::bigint, "
                       "min(submitted_at) FILTER (WHERE status = 'queued') "
                       "FROM jobs WHERE status IN ('queued', 'running')");
        job_backlog out;
        out.queued_rows = r.int64(0, 0);
        out.running_rows = r.int64(0, 1);
        out.oldest_queued_at = r.optional_int64(0, 2);
        return out;
    }

    std::optional<std::int64_t> database_bytes() override
    {
        // Every relation's files, WAL excluded (the server's, shared with other databases).
        return query("SELECT pg_database_size(current_database())").optional_int64(0, 0);
    }

    std::uint64_t key_version() override
    {
        // One primary-key read of the row api_keys' trigger bumps, whichever daemon or CLI changed a key.
        auto r = query("SELECT version FROM key_changes WHERE id = 1");
        return r.empty() ? 0 : static_cast<std::uint64_t>(r.int64(0, 0));
    }

    std::optional<std::uint64_t> wait_key_version(std::chrono::milliseconds timeout) override
    {
        if (!listening_) {
            db_.reconnect_if_lost();
            try {
                db_.listen(pg_key_channel);
            } catch (const postgres_error& e) {
                // A database without LISTEN (YugabyteDB): changes are seen by reading the version row each time.
                if (e.kind() == store_failure::unavailable)
                    throw;
                polling_only_ = true;
            }
            listening_ = true;
        } else if (polling_only_) {
            std::this_thread::sleep_for(timeout);
        } else {
            // A connection lost meanwhile comes back listening; changes made while it was away are in the version.
            db_.reconnect_if_lost();
            db_.wait_for_notification(timeout);
        }
        return key_version();
    }

private:
    // SELECT the job columns FROM jobs, for a clause to follow.
    static std::string job_columns() { return std::string("SELECT ") + pg_job_column_list + " FROM jobs "; }

    // Runs a query, connecting again first when the connection was lost.
    template <typename... Args>
    pg_rows query(const std::string& sql, const Args&... args)
    {
        return retried_if_lost([&] { return db_.query(sql, args...); });
    }

    // What read() gives, on a connection made again first when it was lost; read once more on a fresh
    // connection when it fails because the connection was lost meanwhile: a connection the server closed while
    // idle (a restart) is only found out by using it. Reads change nothing, so running one twice is harmless.
    template <typename Read>
    auto retried_if_lost(const Read& read) -> decltype(read())
    {
        db_.reconnect_if_lost();
        try {
            return read();
        } catch (const postgres_error& e) {
            if (e.kind() != store_failure::unavailable || !db_.lost())
                throw;
        }
        db_.reconnect_if_lost();
        return read();
    }

    // Every job of the rows, in their order.
    static std::vector<job_record> jobs_of(const pg_rows& r)
    {
        std::vector<job_record> out;
        for (int i = 0; i < r.size(); ++i)
            out.push_back(pg_read_job(r, i));
        return out;
    }

    pg_connection db_;
    bool listening_ = false;
    bool polling_only_ = false; // LISTEN refused: no notifications to wait for
};

} // namespace

std::unique_ptr<store_reader> open_postgres_reader(const std::string& url)
{
    return std::make_unique<postgres_reader>(url);
}

} // namespace profiled
