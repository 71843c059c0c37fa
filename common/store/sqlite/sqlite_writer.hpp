// The SQLite engine's single writer: runs batches of domain operations in one transaction each.
#pragma once

#include <memory>
#include <string>

#include "common/store/store.hpp"

namespace profiled {

// The writer on its own connection to the database at path. It frees every job lease when it opens. Deferred
// durability commits with synchronous=NORMAL and makes commits durable with an fdatasync of the WAL file.
std::unique_ptr<store_writer> open_sqlite_writer(const std::string& path, commit_durability durability);

} // namespace profiled
