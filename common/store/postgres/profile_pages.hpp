// The PostgreSQL engine's pages of a project's users and companies, for its reader.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/store/postgres/postgres.hpp"
#include "common/store/store.hpp"

namespace profiled {

// Users in internal id order, each with its aliases, beside their internal ids.
struct pg_keyed_users {
    std::vector<user_profile> users;
    std::vector<std::int64_t> ids;
};

// Companies in internal id order beside their internal ids.
struct pg_keyed_companies {
    std::vector<company_profile> companies;
    std::vector<std::int64_t> ids;
};

// Up to limit of the project's users whose internal id is above after (and updated at or after updated_since),
// with their aliases, in one statement (in the caller's transaction when there is one).
pg_keyed_users pg_read_users_after(pg_connection& db, std::int64_t project_id, std::int64_t after,
                                   std::optional<std::int64_t> updated_since, int limit);
// Up to limit of the project's companies after the internal id after, in the same way.
pg_keyed_companies pg_read_companies_after(pg_connection& db, std::int64_t project_id, std::int64_t after,
                                           std::optional<std::int64_t> updated_since, int limit);
// A page of users as store_reader::list_users describes it, in one statement (one snapshot).
std::optional<user_page> pg_read_user_page(pg_connection& db, std::int64_t project_id,
                                           const std::optional<std::string>& cursor,
                                           std::optional<std::int64_t> updated_since, int limit);
// A page of companies as store_reader::list_companies describes it.
std::optional<company_page> pg_read_company_page(pg_connection& db, std::int64_t project_id,
                                                 const std::optional<std::string>& cursor,
                                                 std::optional<std::int64_t> updated_since, int limit);

} // namespace profiled
