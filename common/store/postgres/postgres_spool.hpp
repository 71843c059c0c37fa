// The PostgreSQL engine's upload spool: uploads written into the database in pieces of about a megabyte, so that
// any daemon on the database can run any job, whichever daemon received its upload.
#pragma once

#include <memory>
#include <string>

#include "common/store/upload_spool.hpp"

namespace profiled {

// The spool in the database at url, on two connections of its own opened on first use: one for a thread that writes
// pieces (and does recovery and sweeps) while the spool thread goes on receiving, one for the runner's reads.
std::unique_ptr<upload_spool> open_postgres_spool(const std::string& url);

} // namespace profiled
