// The embedded SQLite implementation of the store interface: migrations, then readers and the writer.
#include "common/store/sqlite/sqlite_store.hpp"

#include <stdexcept>

#include <fmt/format.h>

#include "common/store/migrations.hpp"
#include "common/store/sqlite/sqlite.hpp"
#include "common/store/sqlite/sqlite_reader.hpp"
#include "common/store/sqlite/sqlite_snapshot.hpp"
#include "common/store/sqlite/sqlite_writer.hpp"

namespace profiled {
namespace {

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

    std::unique_ptr<store_reader> open_reader() override { return open_sqlite_reader(path_); }
    std::unique_ptr<profile_snapshot> open_snapshot(std::int64_t project_id,
                                                    std::optional<std::int64_t> updated_since) override
    {
        return open_sqlite_snapshot(path_, project_id, updated_since);
    }
    std::unique_ptr<store_writer> open_writer(commit_durability durability) override
    {
        return open_sqlite_writer(path_, durability);
    }

private:
    std::string path_;
};

} // namespace

// Opens (creating and migrating) the SQLite database at path.
std::unique_ptr<store> open_sqlite_store(const std::string& path) { return std::make_unique<sqlite_store>(path); }

} // namespace profiled
