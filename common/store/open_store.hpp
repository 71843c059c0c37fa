// Opening the daemon's store without naming an engine.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "common/store/store.hpp"

namespace profiled {

// Opens (creating and migrating) the store of a data directory: the SQLite database data_dir/profiled.db.
std::unique_ptr<store> open_store(const std::string& data_dir);
// Opens (migrating) the store a database URL names: a postgresql:// or postgres:// URL is that PostgreSQL
// database; an empty URL means the SQLite database in data_dir, as open_store(data_dir).
std::unique_ptr<store> open_store(const std::string& data_dir, const std::string& database_url);
// Whether the URL names a PostgreSQL database (postgresql:// or postgres://).
bool is_postgres_url(std::string_view database_url);

} // namespace profiled
