#include "common/store/open_store.hpp"

#include <filesystem>
#include <stdexcept>

#include "common/store/postgres/postgres.hpp"
#include "common/store/postgres/postgres_store.hpp"
#include "common/store/sqlite/sqlite_store.hpp"

namespace profiled {

std::unique_ptr<store> open_store(const std::string& data_dir)
{
    return open_sqlite_store((std::filesystem::path(data_dir) / "profiled.db").string());
}

bool is_postgres_url(std::string_view url) { return url.starts_with("postgresql://") || url.starts_with("postgres://"); }

std::unique_ptr<store> open_store(const std::string& data_dir, const std::string& database_url)
{
    if (database_url.empty())
        return open_store(data_dir);
    if (is_postgres_url(database_url))
        return open_postgres_store(database_url);
    throw std::invalid_argument("unsupported database URL " + redact_database_url(database_url) +
                                ": profiled knows postgresql:// URLs (or none, for SQLite in the data directory)");
}

} // namespace profiled
