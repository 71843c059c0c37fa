// The SQLite engine's row-level verbs on users, companies and aliases; private to the engine, called inside the
// writer's open transaction.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/profiles/profile.hpp"
#include "common/store/sqlite/sqlite.hpp"

namespace profiled {

// Merges each change into the user it names (following an alias), creating the users that are new: one statement
// per row, the merge done inside the database, a chunk in user_id order when no alias can reorder its effect. With
// outcomes, it also says for each row (in the rows' order) whether the user was created and its internal id,
// which costs a little more.
void upsert_user_rows(sqlite_connection& db, std::int64_t project_id, const std::vector<user_upsert>& rows,
                      std::int64_t now, std::vector<upsert_outcome>* outcomes);
// Merges each change into its company, creating the companies that are new; in company_id order, each company's
// rows in theirs.
void upsert_company_rows(sqlite_connection& db, std::int64_t project_id, const std::vector<company_upsert>& rows,
                         std::int64_t now);
// The user row with exactly this user_id (no alias followed), without its aliases.
std::optional<user_profile> load_user(sqlite_connection& db, std::int64_t project_id, const std::string& user_id);
// Inserts (is_new) or replaces the profile, matched on project and user_id.
void save_user(sqlite_connection& db, std::int64_t project_id, const user_profile& profile, bool is_new);
// Removes the user row with exactly this user_id; returns how many rows went.
int delete_user_row(sqlite_connection& db, std::int64_t project_id, const std::string& user_id);
// Makes alias_id (an id clients used) resolve to user_id.
void insert_alias(sqlite_connection& db, std::int64_t project_id, const std::string& alias_id,
                  const std::string& user_id, std::int64_t now);
// Points every alias of from_user_id at to_user_id instead.
void move_aliases(sqlite_connection& db, std::int64_t project_id, const std::string& from_user_id,
                  const std::string& to_user_id);

} // namespace profiled
