// The embedded SQLite implementation of the store interface.
#include <charconv>
#include <filesystem>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <fmt/format.h>

#include "common/store/migrations.hpp"
#include "common/profiles/ids.hpp"
#include "common/store/sqlite/merge_function.hpp"
#include "common/store/sqlite/sqlite.hpp"
#include "common/store/store.hpp"
#include "common/store/store_error.hpp"

namespace profiled {
namespace {

namespace json = boost::json;

// A stored JSON object column back as an object ({} if the text is not one).
json::object parse_object(const std::string& text)
{
    boost::system::error_code ec;
    json::value v = json::parse(text, ec);
    if (ec || !v.is_object())
        return {};
    return std::move(v.as_object());
}

// The key kind stored in a row.
key_kind parse_kind(const std::string& s) { return s == "public" ? key_kind::public_key : key_kind::secret; }

constexpr const char* key_columns =
    "SELECT k.id, k.project_id, p.name, k.kind, k.prefix, k.key_hash, k.created_at, k.revoked_at "
    "FROM api_keys k JOIN projects p ON p.id = k.project_id ";

// An api_keys row selected with key_columns.
api_key_record read_key(const sqlite_query& q)
{
    return {q.int64(0), q.int64(1), q.text(2), parse_kind(q.text(3)), q.text(4), q.text(5), q.int64(6),
            q.optional_int64(7)};
}

constexpr const char* job_columns =
    "SELECT id, job_id, project_id, type, status, filename, file_size, total_rows, processed_rows, failed_rows, "
    "checkpoint_offset, checkpoint_line, error, idempotency_key, submitted_at, started_at, finished_at FROM jobs ";

// job_columns and then the digest of the upload the job's idempotency key is bound to.
constexpr const char* idempotent_job_columns =
    "SELECT id, job_id, project_id, type, status, filename, file_size, total_rows, processed_rows, failed_rows, "
    "checkpoint_offset, checkpoint_line, error, idempotency_key, submitted_at, started_at, finished_at, "
    "idempotency_sha256 FROM jobs ";

// A stored job type or status back as its enum; the table's CHECK constraints allow no other text.
template <typename T>
T parse_column(std::optional<T> parsed, const std::string& text)
{
    if (!parsed)
        throw store_error(store_failure::other, "jobs row with unknown type or status: " + text);
    return *parsed;
}

// A jobs row selected with job_columns (or idempotent_job_columns); column 0, the internal id, stays here.
job_record read_job(const sqlite_query& q)
{
    job_record j;
    j.job_id = q.text(1);
    j.project_id = q.int64(2);
    std::string type = q.text(3);
    j.type = parse_column(parse_job_type(type), type);
    std::string status = q.text(4);
    j.status = parse_column(parse_job_status(status), status);
    j.filename = q.text(5);
    j.file_size = q.int64(6);
    j.total_rows = q.int64(7);
    j.processed_rows = q.int64(8);
    j.failed_rows = q.int64(9);
    j.checkpoint_offset = q.int64(10);
    j.checkpoint_line = q.int64(11);
    j.error = q.optional_text(12);
    j.idempotency_key = q.optional_text(13);
    j.submitted_at = q.int64(14);
    j.started_at = q.optional_int64(15);
    j.finished_at = q.optional_int64(16);
    return j;
}

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

constexpr const char* user_columns =
    "SELECT user_id, public_id, email, phone, company_id, properties, origin, created_at, updated_at, id FROM users ";

// A users row selected with user_columns (aliases are filled in separately).
user_profile read_user(const sqlite_query& q)
{
    user_profile u;
    u.user_id = q.text(0);
    u.id = q.text(1);
    u.email = q.optional_text(2);
    u.phone = q.optional_text(3);
    u.company_id = q.optional_text(4);
    u.properties = parse_object(q.text(5));
    u.origin = parse_object(q.text(6));
    u.created_at = q.int64(7);
    u.updated_at = q.int64(8);
    return u;
}

// The id user_id resolves to through the aliases table.
std::string resolve(sqlite_connection& db, std::int64_t project_id, const std::string& user_id)
{
    auto q = db.query("SELECT user_id FROM aliases WHERE project_id = ? AND alias_id = ?", project_id, user_id);
    return q.step() ? q.text(0) : user_id;
}

// The user (after alias resolution) with its aliases, or nothing.
std::optional<user_profile> find_user_in(sqlite_connection& db, std::int64_t project_id, const std::string& user_id)
{
    std::string resolved = resolve(db, project_id, user_id);
    std::optional<user_profile> user;
    {
        auto q = db.query(std::string(user_columns) + "WHERE project_id = ? AND user_id = ?", project_id, resolved);
        if (!q.step())
            return std::nullopt;
        user = read_user(q);
    }
    auto a = db.query("SELECT alias_id FROM aliases WHERE project_id = ? AND user_id = ? ORDER BY alias_id",
                      project_id, resolved);
    while (a.step())
        user->aliases.push_back(a.text(0));
    return user;
}

// The project's job with this idempotency key, submitted at or after not_before, with the upload's digest.
std::optional<idempotent_job> find_job_by_key(sqlite_connection& db, std::int64_t project_id, const std::string& key,
                                              std::int64_t not_before)
{
    auto q = db.query(std::string(idempotent_job_columns) +
                          "WHERE project_id = ? AND idempotency_key = ? AND submitted_at >= ?",
                      project_id, key, not_before);
    if (!q.step())
        return std::nullopt;
    return idempotent_job{read_job(q), q.optional_text(17).value_or("")};
}

// Reads through a query_only connection.
class sqlite_reader final : public store_reader {
public:
    explicit sqlite_reader(const std::string& path) : db_(path, true) {}

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
        auto user = find_user_in(db_, project_id, user_id);
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

    std::vector<job_record> list_all_jobs(int limit) override
    {
        std::vector<job_record> out;
        auto q = db_.query(std::string(job_columns) + "ORDER BY id DESC LIMIT ?", static_cast<std::int64_t>(limit));
        while (q.step())
            out.push_back(read_job(q));
        return out;
    }

    std::int64_t count_jobs(job_status status) override
    {
        auto q = db_.query("SELECT count(*) FROM jobs WHERE status = ?", to_string(status));
        q.step();
        return q.int64(0);
    }

    std::uint64_t key_version() override
    {
        // data_version changes when another connection (this process's writer, or the CLI) committed anything; it
        // reads the WAL index in shared memory, no table. Only then is the keys' own counter row read again.
        std::int64_t data_version = 0;
        {
            auto q = db_.query("PRAGMA data_version");
            q.step();
            data_version = q.int64(0);
        }
        if (data_version != data_version_ || !key_version_) {
            auto q = db_.query("SELECT version FROM key_changes WHERE id = 1");
            key_version_ = q.step() ? static_cast<std::uint64_t>(q.int64(0)) : 0;
            data_version_ = data_version;
        }
        return *key_version_;
    }

private:
    sqlite_connection db_;
    std::int64_t data_version_ = -1;
    std::optional<std::uint64_t> key_version_;
};

// The single write connection.
class sqlite_writer final : public store_writer {
public:
    explicit sqlite_writer(const std::string& path) : db_(path, false) { register_merge_function(db_.handle()); }

    void begin() override
    {
        db_.check_not_moved();
        db_.exec("BEGIN IMMEDIATE");
    }
    void commit() override { db_.exec("COMMIT"); }
    void rollback() override
    {
        // SQLite may have rolled back already (e.g. after SQLITE_FULL); that is fine.
        try {
            db_.exec("ROLLBACK");
        } catch (const sqlite_error&) {
        }
    }
    void savepoint() override { db_.exec("SAVEPOINT item"); }
    void release_savepoint() override { db_.exec("RELEASE item"); }
    void rollback_savepoint() override { db_.exec("ROLLBACK TO item; RELEASE item"); }

    std::int64_t ensure_project(const std::string& name, std::int64_t now) override
    {
        db_.query("INSERT INTO projects(name, created_at) VALUES (?, ?) ON CONFLICT(name) DO NOTHING", name, now)
            .run();
        auto q = db_.query("SELECT id FROM projects WHERE name = ?", name);
        q.step();
        return q.int64(0);
    }

    void insert_key(const api_key_record& key) override
    {
        db_.query("INSERT INTO api_keys(project_id, kind, prefix, key_hash, created_at) VALUES (?, ?, ?, ?, ?)",
                  key.project_id, key_kind_name(key.kind), key.prefix, key.key_hash, key.created_at)
            .run();
    }

    int revoke_keys(const std::string& prefix, std::int64_t now) override
    {
        db_.query("UPDATE api_keys SET revoked_at = ? WHERE revoked_at IS NULL AND substr(prefix, 1, length(?)) = ?",
                  now, prefix, prefix)
            .run();
        return db_.changes();
    }

    void upsert_users(std::int64_t project_id, const std::vector<user_upsert>& rows, std::int64_t now,
                      std::vector<upsert_outcome>* outcomes) override
    {
        // The alias, when user_id is one, names the user; the proposed internal id is kept only by a new row,
        // which is how a created user is told from an updated one (RETURNING, asked only for outcomes).
        static constexpr std::string_view quiet =
            "INSERT INTO users(project_id, user_id, public_id, email, phone, company_id, properties, origin, "
            "created_at, updated_at) VALUES (?1, coalesce((SELECT a.user_id FROM aliases a WHERE a.project_id = ?1 "
            "AND a.alias_id = ?2), ?2), ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9) "
            "ON CONFLICT(project_id, user_id) DO UPDATE SET email = coalesce(excluded.email, users.email), "
            "phone = coalesce(excluded.phone, users.phone), "
            "company_id = coalesce(excluded.company_id, users.company_id), "
            "properties = profiled_merge(users.properties, excluded.properties), "
            "origin = profiled_merge(users.origin, excluded.origin), updated_at = excluded.updated_at";
        static const std::string reporting = std::string(quiet) + " RETURNING public_id";
        if (outcomes)
            outcomes->reserve(outcomes->size() + rows.size());
        for (const auto& row : rows) {
            std::string proposed = new_user_public_id();
            auto q = db_.query(outcomes ? reporting : quiet, project_id, row.user_id, proposed, row.email, row.phone,
                               row.company_id, row.properties, row.origin, now);
            if (!outcomes) {
                q.run();
                continue;
            }
            q.step();
            std::string kept = q.text(0);
            bool created = kept == proposed;
            outcomes->push_back({created, std::move(kept)});
        }
    }

    void upsert_companies(std::int64_t project_id, const std::vector<company_upsert>& rows, std::int64_t now) override
    {
        static constexpr const char* sql =
            "INSERT INTO companies(project_id, company_id, properties, created_at, updated_at) "
            "VALUES (?1, ?2, ?3, ?4, ?4) ON CONFLICT(project_id, company_id) DO UPDATE SET "
            "properties = profiled_merge(companies.properties, excluded.properties), updated_at = excluded.updated_at";
        for (const auto& row : rows)
            db_.query(sql, project_id, row.company_id, row.properties, now).run();
    }

    std::string resolve_user_id(std::int64_t project_id, const std::string& user_id) override
    {
        return resolve(db_, project_id, user_id);
    }

    std::optional<user_profile> load_user(std::int64_t project_id, const std::string& user_id) override
    {
        auto q = db_.query(std::string(user_columns) + "WHERE project_id = ? AND user_id = ?", project_id, user_id);
        if (!q.step())
            return std::nullopt;
        return read_user(q);
    }

    void save_user(std::int64_t project_id, const user_profile& u, bool is_new) override
    {
        std::string properties = json::serialize(u.properties);
        std::string origin = json::serialize(u.origin);
        if (is_new) {
            db_.query("INSERT INTO users(project_id, user_id, public_id, email, phone, company_id, properties, origin, "
                      "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                      project_id, u.user_id, u.id, u.email, u.phone, u.company_id, properties, origin, u.created_at,
                      u.updated_at)
                .run();
            return;
        }
        db_.query("UPDATE users SET email = ?, phone = ?, company_id = ?, properties = ?, origin = ?, "
                  "created_at = ?, updated_at = ? WHERE project_id = ? AND user_id = ?",
                  u.email, u.phone, u.company_id, properties, origin, u.created_at, u.updated_at, project_id,
                  u.user_id)
            .run();
    }

    void delete_user(std::int64_t project_id, const std::string& user_id) override
    {
        db_.query("DELETE FROM users WHERE project_id = ? AND user_id = ?", project_id, user_id).run();
    }

    std::optional<company_profile> load_company(std::int64_t project_id, const std::string& company_id) override
    {
        auto q = db_.query("SELECT company_id, properties, created_at, updated_at FROM companies "
                           "WHERE project_id = ? AND company_id = ?",
                           project_id, company_id);
        if (!q.step())
            return std::nullopt;
        return company_profile{q.text(0), parse_object(q.text(1)), q.int64(2), q.int64(3)};
    }

    void save_company(std::int64_t project_id, const company_profile& c, bool is_new) override
    {
        std::string properties = json::serialize(c.properties);
        if (is_new)
            db_.query("INSERT INTO companies(project_id, company_id, properties, created_at, updated_at) "
                      "VALUES (?, ?, ?, ?, ?)",
                      project_id, c.company_id, properties, c.created_at, c.updated_at)
                .run();
        else
            db_.query("UPDATE companies SET properties = ?, updated_at = ? WHERE project_id = ? AND company_id = ?",
                      properties, c.updated_at, project_id, c.company_id)
                .run();
    }

    void insert_alias(std::int64_t project_id, const std::string& alias_id, const std::string& user_id,
                      std::int64_t now) override
    {
        db_.query("INSERT INTO aliases(project_id, alias_id, user_id, created_at) VALUES (?, ?, ?, ?)", project_id,
                  alias_id, user_id, now)
            .run();
    }

    void move_aliases(std::int64_t project_id, const std::string& from_user_id, const std::string& to_user_id) override
    {
        db_.query("UPDATE aliases SET user_id = ? WHERE project_id = ? AND user_id = ?", to_user_id, project_id,
                  from_user_id)
            .run();
    }

    bool insert_job(const job_record& j, const std::string& upload_sha256) override
    {
        // Only a clash on the idempotency key is an answer; any other constraint failing is a bug and throws.
        std::optional<std::string> digest;
        if (j.idempotency_key)
            digest = upload_sha256;
        db_.query("INSERT INTO jobs(job_id, project_id, type, status, filename, file_size, total_rows, "
                  "idempotency_key, idempotency_sha256, submitted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                  "ON CONFLICT (project_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING",
                  j.job_id, j.project_id, to_string(j.type), to_string(j.status), j.filename, j.file_size, j.total_rows,
                  j.idempotency_key, digest, j.submitted_at)
            .run();
        return db_.changes() != 0;
    }

    std::optional<idempotent_job> find_job_by_idempotency_key(std::int64_t project_id, const std::string& key,
                                                              std::int64_t not_before) override
    {
        return find_job_by_key(db_, project_id, key, not_before);
    }

    void clear_idempotency_key(std::int64_t project_id, const std::string& key, std::int64_t not_before) override
    {
        db_.query("UPDATE jobs SET idempotency_key = NULL WHERE project_id = ? AND idempotency_key = ? "
                  "AND submitted_at < ?",
                  project_id, key, not_before)
            .run();
    }

    std::optional<job_record> load_job(const std::string& job_id) override
    {
        auto q = db_.query(std::string(job_columns) + "WHERE job_id = ?", job_id);
        if (!q.step())
            return std::nullopt;
        return read_job(q);
    }

    std::vector<job_record> unfinished_jobs() override
    {
        std::vector<job_record> out;
        auto q = db_.query(std::string(job_columns) + "WHERE status IN ('queued', 'running') ORDER BY id");
        while (q.step())
            out.push_back(read_job(q));
        return out;
    }

    void mark_job_running(const std::string& job_id, std::int64_t now) override
    {
        db_.query("UPDATE jobs SET status = 'running', started_at = coalesce(started_at, ?) WHERE job_id = ?", now,
                  job_id)
            .run();
    }

    void advance_job(const std::string& job_id, std::int64_t checkpoint_offset, std::int64_t checkpoint_line,
                     std::int64_t processed_rows, std::int64_t failed_rows) override
    {
        db_.query("UPDATE jobs SET checkpoint_offset = ?, checkpoint_line = ?, processed_rows = ?, failed_rows = ? "
                  "WHERE job_id = ?",
                  checkpoint_offset, checkpoint_line, processed_rows, failed_rows, job_id)
            .run();
    }

    void insert_job_error(const std::string& job_id, const job_row_error& e) override
    {
        db_.query("INSERT OR REPLACE INTO job_errors(job_id, line, row_id, field, message) "
                  "VALUES ((SELECT id FROM jobs WHERE job_id = ?), ?, ?, ?, ?)",
                  job_id, e.line, e.row_id, e.field, e.message)
            .run();
    }

    void finish_job(const std::string& job_id, job_status status, const std::optional<std::string>& error,
                    std::int64_t now) override
    {
        db_.query("UPDATE jobs SET status = ?, error = ?, finished_at = ? WHERE job_id = ?", to_string(status), error,
                  now, job_id)
            .run();
    }

private:
    // Nothing is remembered between calls: another writer (another process, or another daemon on a shared
    // engine) may have changed any row.
    sqlite_connection db_;
};

// Applies every embedded migration the database does not have yet.
void migrate(sqlite_connection& db, const std::string& path)
{
    db.exec("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
            "applied_at INTEGER NOT NULL)");
    std::int64_t current = 0;
    {
        auto q = db.query("SELECT coalesce(max(version), 0) FROM schema_migrations");
        q.step();
        current = q.int64(0);
    }
    const auto& all = embedded_migrations();
    int newest_known = all.empty() ? 0 : all.back().version;
    if (current > newest_known)
        throw std::runtime_error(fmt::format(
            "{} has schema version {}, but this profiled only knows versions up to {}: upgrade profiled "
            "(or restore a backup made by this version)",
            path, current, newest_known));
    for (const auto& m : all) {
        if (m.version <= current)
            continue;
        sqlite_transaction tx(db);
        db.exec(m.sql);
        db.query("INSERT INTO schema_migrations(version, name, applied_at) VALUES (?, ?, strftime('%s','now') * 1000)",
                 m.version, m.name)
            .run();
        tx.commit();
    }
}

class sqlite_store final : public store {
public:
    explicit sqlite_store(std::string path) : path_(std::move(path))
    {
        route_sqlite_log_to_logger();
        sqlite_connection db(path_, false);
        migrate(db, path_);
    }

    std::unique_ptr<store_reader> open_reader() override { return std::make_unique<sqlite_reader>(path_); }
    std::unique_ptr<store_writer> open_writer() override { return std::make_unique<sqlite_writer>(path_); }

private:
    std::string path_;
};

} // namespace

// Opens (creating and migrating) the SQLite database at path.
std::unique_ptr<store> open_sqlite_store(const std::string& path) { return std::make_unique<sqlite_store>(path); }

} // namespace profiled
