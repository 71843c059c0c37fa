// The PostgreSQL engine's row-by-row writes of users: People API updates, aliases, deletes (the set-based upserts
// are profile_upserts'); private to the engine, called inside the writer's open transaction.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/api_error.hpp"
#include "common/profiles/profile.hpp"
#include "common/store/postgres/postgres.hpp"
#include "common/store/store_operations.hpp"

namespace profiled {

// Applies the update to the profile its distinct_id resolves to (created when new), holding the row's lock from
// read to write so that concurrent writers on other daemons lose no update; the refusal otherwise.
std::optional<api_error> pg_update_people(pg_connection& db, const update_people& update);
// Makes the alias, merging the profiles (their rows locked); the refusal otherwise, also when another writer
// made an alias of original_id first.
std::optional<api_error> pg_alias_user(pg_connection& db, const alias_user& alias);
// Removes the user row with exactly this user_id; returns how many rows went.
std::int64_t pg_delete_user(pg_connection& db, std::int64_t project_id, const std::string& user_id);

} // namespace profiled
