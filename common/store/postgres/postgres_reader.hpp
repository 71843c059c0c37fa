// The PostgreSQL engine's readers: every store_reader query on a connection of the reader's own.
#pragma once

#include <memory>
#include <string>

#include "common/store/store.hpp"

namespace profiled {

// A reader on its own connection to the database at url.
std::unique_ptr<store_reader> open_postgres_reader(const std::string& url);

} // namespace profiled
