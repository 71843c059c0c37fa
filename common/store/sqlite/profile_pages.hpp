// The SQLite engine's pages of a project's users and companies, for its reader.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/store/sqlite/sqlite.hpp"
#include "common/store/store.hpp"

namespace profiled {

// A page of users as store_reader::list_users describes it, read in one read transaction.
std::optional<user_page> read_user_page(sqlite_connection& db, std::int64_t project_id,
                                        const std::optional<std::string>& cursor,
                                        std::optional<std::int64_t> updated_since, int limit);
// A page of companies as store_reader::list_companies describes it.
std::optional<company_page> read_company_page(sqlite_connection& db, std::int64_t project_id,
                                              const std::optional<std::string>& cursor,
                                              std::optional<std::int64_t> updated_since, int limit);

} // namespace profiled
