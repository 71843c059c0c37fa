// The SQLite engine's pages of a project's users and companies, for its reader.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/store/sqlite/sqlite.hpp"
#include "common/store/store.hpp"

namespace profiled {

// Users in internal id order, each with its aliases, beside their internal ids.
struct keyed_users {
    std::vector<user_profile> users;
    std::vector<std::int64_t> ids;
};

// Companies in internal id order beside their internal ids.
struct keyed_companies {
    std::vector<company_profile> companies;
    std::vector<std::int64_t> ids;
};

// Up to limit of the project's users whose internal id is above after (and updated at or after updated_since),
// with their aliases, in the caller's transaction (or each statement in its own when there is none).
keyed_users read_users_after(sqlite_connection& db, std::int64_t project_id, std::int64_t after,
                             std::optional<std::int64_t> updated_since, int limit);
// Up to limit of the project's companies after the internal id after, in the same way.
keyed_companies read_companies_after(sqlite_connection& db, std::int64_t project_id, std::int64_t after,
                                     std::optional<std::int64_t> updated_since, int limit);
// A page of users as store_reader::list_users describes it, read in one read transaction.
std::optional<user_page> read_user_page(sqlite_connection& db, std::int64_t project_id,
                                        const std::optional<std::string>& cursor,
                                        std::optional<std::int64_t> updated_since, int limit);
// A page of companies as store_reader::list_companies describes it.
std::optional<company_page> read_company_page(sqlite_connection& db, std::int64_t project_id,
                                              const std::optional<std::string>& cursor,
                                              std::optional<std::int64_t> updated_since, int limit);

} // namespace profiled
