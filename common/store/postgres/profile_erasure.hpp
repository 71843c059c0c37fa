// The PostgreSQL engine's erasure of users and companies (GDPR); private to the engine, called inside the
// writer's open transaction.
#pragma once

#include <cstdint>

#include "common/store/postgres/postgres.hpp"
#include "common/store/store_operations.hpp"

namespace profiled {

// Erases the users as erase_users describes, in one statement; returns how many profiles were removed.
std::int64_t pg_erase_users(pg_connection& db, const erase_users& erase);
// Erases the companies as erase_companies describes, in one statement; returns how many profiles were removed.
std::int64_t pg_erase_companies(pg_connection& db, const erase_companies& erase);

} // namespace profiled
