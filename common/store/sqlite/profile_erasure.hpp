// The SQLite engine's erasure of users and companies (GDPR); private to the engine, called inside the writer's
// open transaction.
#pragma once

#include <cstdint>

#include "common/store/sqlite/sqlite.hpp"
#include "common/store/store_operations.hpp"

namespace profiled {

// Erases the users as erase_users describes; returns how many profiles were removed.
std::int64_t erase_user_rows(sqlite_connection& db, const erase_users& erase);
// Erases the companies as erase_companies describes; returns how many profiles were removed.
std::int64_t erase_company_rows(sqlite_connection& db, const erase_companies& erase);

} // namespace profiled
