// The PostgreSQL engine behind the store interface, for several daemons sharing one database.
#pragma once

#include <memory>
#include <string>

#include "common/store/store.hpp"

namespace profiled {

// Opens the database at the postgresql:// URL and migrates it under an advisory lock, so that daemons starting
// at once migrate it once; throws when its schema is newer than this binary knows, or when it cannot be reached
// (store_error, unavailable). No error text holds the URL's password.
std::unique_ptr<store> open_postgres_store(const std::string& url);

} // namespace profiled
