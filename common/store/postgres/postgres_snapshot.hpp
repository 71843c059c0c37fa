// The PostgreSQL engine's export snapshots: a REPEATABLE READ, READ ONLY transaction on a connection of their own.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "common/store/store.hpp"

namespace profiled {

// A snapshot of the project's profiles in the database at url, its snapshot taken (MVCC: writers go on).
std::unique_ptr<profile_snapshot> open_postgres_snapshot(const std::string& url, std::int64_t project_id,
                                                         std::optional<std::int64_t> updated_since);

} // namespace profiled
