#include "common/store/postgres/postgres_store.hpp"

#include <stdexcept>

#include <fmt/format.h>

#include "common/store/migrations.hpp"
#include "common/store/postgres/postgres.hpp"
#include "common/store/postgres/postgres_reader.hpp"
#include "common/store/postgres/postgres_snapshot.hpp"
#include "common/store/postgres/postgres_spool.hpp"
#include "common/store/postgres/postgres_writer.hpp"

namespace profiled {
namespace {

// The advisory lock key of profiled's migrations: "profiled" in ASCII.
constexpr std::int64_t migration_lock = 0x70726f66696c6564;

// Applies every embedded migration the database does not have yet, one daemon at a time.
void migrate(pg_connection& db, const std::string& url)
{
    db.query("SELECT pg_advisory_lock($1)", migration_lock);
    struct unlock {
        pg_connection& db;
        ~unlock()
        {
            try {
                db.query("SELECT pg_advisory_unlock($1)", migration_lock);
            } catch (...) {
                // The session's end frees it anyway.
            }
        }
    } unlock_at_end{db};
    db.exec("CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL, "
            "applied_at bigint NOT NULL)");
    std::int64_t current = db.query("SELECT coalesce(max(version), 0) FROM schema_migrations").int64(0, 0);
    const auto& all = embedded_postgres_migrations();
    int newest_known = all.empty() ? 0 : all.back().version;
    if (current > newest_known)
        throw std::runtime_error(
            fmt::format("{} has schema version {}, but this profiled only knows versions up to {}: upgrade profiled "
                        "(or restore a backup made by this version)",
                        redact_database_url(url), current, newest_known));
    for (const auto& m : all) {
        if (m.version <= current)
            continue;
        pg_transaction tx(db);
        db.exec(m.sql);
        db.query("INSERT INTO schema_migrations(version, name, applied_at) "
                 "VALUES ($1, $2, (extract(epoch FROM now()) * 1000)::bigint)",
                 m.version, m.name);
        tx.commit();
    }
}

class postgres_store final : public store {
public:
    explicit postgres_store(std::string url) : url_(std::move(url))
    {
        pg_connection db(url_);
        migrate(db, url_);
    }

    std::unique_ptr<store_reader> open_reader() override { return open_postgres_reader(url_); }
    std::unique_ptr<profile_snapshot> open_snapshot(std::int64_t project_id,
                                                    std::optional<std::int64_t> updated_since) override
    {
        return open_postgres_snapshot(url_, project_id, updated_since);
    }
    std::unique_ptr<store_writer> open_writer(commit_durability) override { return open_postgres_writer(url_); }
    // In the database, whatever the directory: any daemon runs any job.
    std::unique_ptr<upload_spool> open_spool(const std::string&) override { return open_postgres_spool(url_); }

private:
    std::string url_;
};

} // namespace

std::unique_ptr<store> open_postgres_store(const std::string& url) { return std::make_unique<postgres_store>(url); }

} // namespace profiled
