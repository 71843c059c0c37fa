// The SQLite engine's readers: query_only connections answering the store_reader queries.
#pragma once

#include <memory>
#include <string>

#include "common/store/store.hpp"

namespace profiled {

// A reader on its own query_only connection to the database at path.
std::unique_ptr<store_reader> open_sqlite_reader(const std::string& path);

} // namespace profiled
