// One operation of a batch against the SQLite writer's open transaction.
#pragma once

#include "common/store/sqlite/sqlite.hpp"
#include "common/store/store_operations.hpp"

namespace profiled {

// Runs the operation inside the open transaction; a refusal is in the outcome, with whatever the operation wrote
// left for the caller to roll back to its savepoint.
operation_outcome run_operation(sqlite_connection& db, const store_operation& op);

} // namespace profiled
