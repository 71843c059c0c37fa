// The SQLite engine's export snapshots: one read transaction on a query_only connection of their own.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "common/store/store.hpp"

namespace profiled {

// A snapshot of the project's profiles in the database at path, its read transaction begun (WAL: writers go on).
std::unique_ptr<profile_snapshot> open_sqlite_snapshot(const std::string& path, std::int64_t project_id,
                                                       std::optional<std::int64_t> updated_since);

} // namespace profiled
