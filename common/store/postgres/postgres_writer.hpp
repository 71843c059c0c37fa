// The PostgreSQL engine's writer: runs batches of domain operations in one transaction each. Several daemons may
// each have one on the same database.
#pragma once

#include <memory>
#include <string>

#include "common/store/store.hpp"

namespace profiled {

// A writer on its own connection to the database at url. Every commit is durable when it returns (the server
// syncs its WAL at commit), so it is an at_commit writer whatever is asked. It frees no job lease when it opens:
// other daemons' leases are alive, and a dead daemon's lease simply expires.
std::unique_ptr<store_writer> open_postgres_writer(const std::string& url);

} // namespace profiled
