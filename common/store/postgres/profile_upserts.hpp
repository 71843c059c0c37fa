// The PostgreSQL engine's set-based upserts of users and companies: many operations' rows, of any projects, in one
// statement over arrays (one round trip); private to the engine, called by its writer.
#pragma once

#include <vector>

#include "common/store/postgres/postgres.hpp"
#include "common/store/store_operations.hpp"

namespace profiled {

// Whether the operation is an upsert pg_upsert_profiles can fold into one statement with others (upsert_users
// without report_outcomes, upsert_companies): one that is never refused and answers nothing but success.
bool pg_foldable_upsert(const store_operation& op);

// Applies the foldable upserts, in their order, as one statement: each change merged into the user it names
// (following an alias) or the company, the new ones created, one user's (or company's) changes folded in order
// first, the merge (jsonb ||) done inside the database, rows locked in (project, id) order so that writers on
// several daemons lock shared rows alike. With may_unfold, a large set without a repeated id skips the folding;
// when aliases make two of its ids one user after all, the statement fails as pg_met_a_row_twice says, and the
// caller runs its batch again without may_unfold.
void pg_upsert_profiles(pg_connection& db, const std::vector<const store_operation*>& upserts, bool may_unfold);

// Whether the failure is an unfolded statement meeting one user or company twice (two ids, one through an alias).
bool pg_met_a_row_twice(const postgres_error& e);

// The users upsert one statement per row, each saying whether the user was created and its internal id.
void pg_upsert_users_reporting(pg_connection& db, const upsert_users& upsert, std::vector<upsert_outcome>& outcomes);

} // namespace profiled
