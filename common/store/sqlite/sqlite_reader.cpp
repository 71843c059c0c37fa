#include "common/store/sqlite/sqlite_reader.hpp"

#include <charconv>
#include <chrono>
#include <filesystem>

#include "common/store/sqlite/key_change_signal.hpp"
#include "common/store/sqlite/profile_pages.hpp"
#include "common/store/sqlite/sqlite.hpp"
#include "common/store/sqlite/stored_rows.hpp"
#include "common/store/sqlite/webhook_rows.hpp"

namespace profiled {
namespace {

// A page cursor: the prefix naming what it pages, then a decimal position (a jobs id, a job_errors line).
std::string encode_cursor(char prefix, std::int64_t position) { return prefix + std::to_string(position); }

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
// How often the keys' version is read from the database although no key change was signalled: the bound on how
// late a key changed without the signal (by a process that may not write it, or in SQL by hand) is seen.
constexpr auto full_key_check_interval = std::chrono::milliseconds(500);

// Reads through a query_only connection.
class sqlite_reader final : public store_reader {
public:
    explicit sqlite_reader(const std::string& path) : db_(path, true), key_signal_(path), path_(path) {}

    std::optional<api_key_record> find_key(const std::string& key_hash) override
    {
        auto q = db_.query(std::string(key_columns) + "WHERE k.key_hash = ?", key_hash);
        if (!q.step())
            return std::nullopt;
        return read_key(q);
    }

    std::vector<api_key_record> list_keys() override
    {
        std::vector<api_key_record> out;
        auto q = db_.query(std::string(key_columns) + "ORDER BY p.name, k.id");
        while (q.step())
            out.push_back(read_key(q));
        return out;
    }

    std::optional<user_profile> find_user(std::int64_t project_id, const std::string& user_id) override
    {
        // One read transaction so the alias lookup and the row agree.
        sqlite_transaction tx(db_, false);
        auto user = find_user_with_aliases(db_, project_id, user_id);
        tx.commit();
        return user;
    }

    std::optional<company_profile> find_company(std::int64_t project_id, const std::string& company_id) override
    {
        auto q = db_.query("SELECT company_id, properties, created_at, updated_at FROM companies "
                           "WHERE project_id = ? AND company_id = ?",
                           project_id, company_id);
        if (!q.step())
            return std::nullopt;
        return company_profile{q.text(0), parse_object(q.text(1)), q.int64(2), q.int64(3)};
    }

    std::optional<job_record> find_job(std::int64_t project_id, const std::string& job_id) override
    {
        auto q = db_.query(std::string(job_columns) + "WHERE job_id = ? AND project_id = ?", job_id, project_id);
        if (!q.step())
            return std::nullopt;
        return read_job(q);
    }

    std::optional<job_record> find_job_by_idempotency_key(std::int64_t project_id, const std::string& key,
                                                          std::int64_t not_before) override
    {
        auto found = find_job_by_key(db_, project_id, key, not_before);
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
        std::optional<const char*> status_name;
        if (status)
            status_name = to_string(*status);
        job_page page;
        auto q = db_.query(std::string(job_columns) +
                               "WHERE project_id = ?1 AND (?2 IS NULL OR status = ?2) AND (?3 IS NULL OR id < ?3) "
                               "ORDER BY id DESC LIMIT ?4",
                           project_id, status_name, below, static_cast<std::int64_t>(limit) + 1);
        std::int64_t last_id = 0;
        while (q.step()) {
            if (static_cast<int>(page.jobs.size()) == limit) {
                page.next_cursor = encode_cursor(jobs_cursor, last_id);
                break;
            }
            last_id = q.int64(0);
            page.jobs.push_back(read_job(q));
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
        job_error_page page;
        auto q = db_.query("SELECT line, row_id, field, message FROM job_errors "
                           "WHERE job_id = (SELECT id FROM jobs WHERE job_id = ?) AND line > ? ORDER BY line LIMIT ?",
                           job_id, after_line, static_cast<std::int64_t>(limit) + 1);
        while (q.step())
            page.errors.push_back({q.int64(0), q.text(1), q.text(2), q.text(3)});
        if (static_cast<int>(page.errors.size()) > limit) {
            page.errors.pop_back();
            page.next_cursor = encode_cursor(job_errors_cursor, page.errors.back().line);
        }
        return page;
    }

    std::optional<user_page> list_users(std::int64_t project_id, const std::optional<std::string>& cursor,
                                        std::optional<std::int64_t> updated_since, int limit) override
    {
        return read_user_page(db_, project_id, cursor, updated_since, limit);
    }

    std::optional<company_page> list_companies(std::int64_t project_id, const std::optional<std::string>& cursor,
                                               std::optional<std::int64_t> updated_since, int limit) override
    {
        return read_company_page(db_, project_id, cursor, updated_since, limit);
    }

    std::vector<job_record> unfinished_jobs() override
    {
        return jobs_where("WHERE status IN ('queued', 'running') ORDER BY id");
    }

    std::vector<job_record> list_all_jobs(int limit) override
    {
        return jobs_where("ORDER BY id DESC LIMIT ?", static_cast<std::int64_t>(limit));
    }

    std::int64_t count_jobs(job_status status) override
    {
        auto q = db_.query("SELECT count(*) FROM jobs WHERE status = ?", to_string(status));
        q.step();
        return q.int64(0);
    }

    std::vector<webhook_record> list_webhooks(std::int64_t project_id) override
    {
        return read_webhooks(db_, project_id);
    }

    std::optional<webhook_record> find_webhook(std::int64_t project_id, const std::string& webhook_id) override
    {
        return read_webhook(db_, project_id, webhook_id);
    }

    std::optional<delivery_attempt_page> list_delivery_attempts(std::int64_t project_id, const std::string& webhook_id,
                                                                const std::optional<std::string>& cursor,
                                                                int limit) override
    {
        return read_delivery_attempts(db_, project_id, webhook_id, cursor, limit);
    }

    delivery_backlog webhook_backlog(std::int64_t now) override { return read_delivery_backlog(db_, now); }

    job_backlog read_job_backlog() override
    {
        job_backlog out;
        auto q = db_.query("SELECT coalesce(sum(CASE WHEN status = 'queued' THEN total_rows - processed_rows END), 0), "
                           "coalesce(sum(CASE WHEN status = 'running' THEN total_rows - processed_rows END), 0), "
                           "min(CASE WHEN status = 'queued' THEN submitted_at END) "
                           "FROM jobs WHERE status IN ('queued', 'running')");
        q.step();
        out.queued_rows = q.int64(0);
        out.running_rows = q.int64(1);
        out.oldest_queued_at = q.optional_int64(2);
        return out;
    }

    std::optional<std::int64_t> database_bytes() override
    {
        // The database file and its WAL, which holds committed pages until they are copied back.
        std::int64_t total = 0;
        bool any = false;
        for (const char* suffix : {"", "-wal"}) {
            std::error_code ec;
            auto size = std::filesystem::file_size(path_ + suffix, ec);
            if (!ec) {
                total += static_cast<std::int64_t>(size);
                any = true;
            }
        }
        return any ? std::optional(total) : std::nullopt;
    }

    std::uint64_t key_version() override
    {
        // The signal first: a change bumped after this read is seen by the next call.
        std::uint64_t signalled = key_signal_.value();
        auto now = std::chrono::steady_clock::now();
        if (key_version_ && signalled == signalled_ && now < next_full_check_)
            return *key_version_;
        signalled_ = signalled;
        next_full_check_ = now + full_key_check_interval;
        // data_version changes when another connection (this process's writer, or the CLI) committed anything; it
        // reads the WAL index in shared memory, no table. Only then is the keys' own counter row read again.
        std::int64_t data_version = 0;
        {
            auto q = db_.query_as_is("PRAGMA data_version");
            q.step();
            data_version = q.int64(0);
        }
        if (data_version != data_version_ || !key_version_) {
            auto q = db_.query_as_is("SELECT version FROM key_changes WHERE id = 1");
            key_version_ = q.step() ? static_cast<std::uint64_t>(q.int64(0)) : 0;
            data_version_ = data_version;
        }
        return *key_version_;
    }

private:
    // Every job the clause (what follows the job columns' FROM) selects, bound to args, in its order.
    template <typename... Args>
    std::vector<job_record> jobs_where(std::string_view clause, const Args&... args)
    {
        std::vector<job_record> out;
        auto q = db_.query(std::string(job_columns).append(clause), args...);
        while (q.step())
            out.push_back(read_job(q));
        return out;
    }

    sqlite_connection db_;
    key_change_signal key_signal_;
    std::string path_;                                       // the database file, for its size
    std::uint64_t signalled_ = 0;                            // the signal's value at the last full check
    std::chrono::steady_clock::time_point next_full_check_{}; // when the database is asked again regardless
    std::int64_t data_version_ = -1;
    std::optional<std::uint64_t> key_version_;
};

} // namespace

std::unique_ptr<store_reader> open_sqlite_reader(const std::string& path) { return std::make_unique<sqlite_reader>(path); }

} // namespace profiled
