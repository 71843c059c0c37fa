// The SQLite engine behind the store interface.
#pragma once

#include <memory>
#include <string>

#include "common/store/store.hpp"

namespace profiled {

// Opens (creating and migrating) the SQLite database at path.
std::unique_ptr<store> open_sqlite_store(const std::string& path);

} // namespace profiled
