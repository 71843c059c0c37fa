// The SQLite engine's profile operations that load, merge in C++ and save: People API updates and aliases.
// The rules themselves are common/profiles' (people_writes.hpp, user_aliases.hpp); this is where they meet rows.
#pragma once

#include <optional>

#include "common/api_error.hpp"
#include "common/store/sqlite/sqlite.hpp"
#include "common/store/store_operations.hpp"

namespace profiled {

// Applies the update to the profile its distinct_id resolves to, creating it when new; the refusal otherwise,
// with nothing written.
std::optional<api_error> update_people_rows(sqlite_connection& db, const update_people& update);
// Makes the alias, merging the profiles; the refusal otherwise, with nothing written.
std::optional<api_error> alias_user_rows(sqlite_connection& db, const alias_user& alias);

} // namespace profiled
