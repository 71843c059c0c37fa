// Opening the daemon's store without naming an engine.
#pragma once

#include <memory>
#include <string>

#include "common/store/store.hpp"

namespace profiled {

// Opens (creating and migrating) the store of a data directory: for now the SQLite database data_dir/profiled.db.
std::unique_ptr<store> open_store(const std::string& data_dir);

} // namespace profiled
