// Engine failures as one neutral taxonomy: what the daemon needs to answer a client, whatever the engine.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace profiled {

// Why the store could not do what it was asked.
enum class store_failure {
    storage_full, // the database's disk (or quota) is full
    busy,         // another client held a lock longer than the engine waits
    unwritable,   // the database is read-only, or was deleted or moved while open
    unavailable,  // the database cannot be reached for now (a lost connection, a server restarting)
    other,        // anything else: a bug or a broken database
};

// The failure's name for logs: storage_full, busy, unwritable, unavailable, other.
std::string_view failure_name(store_failure kind) noexcept;

// Broken infrastructure reported by the store: thrown, caught at the handler boundary; what() is the engine's
// detail, for the log only.
class store_error : public std::runtime_error {
public:
    store_error(store_failure kind, const std::string& detail) : std::runtime_error(detail), kind_(kind) {}
    store_failure kind() const noexcept { return kind_; }

private:
    store_failure kind_;
};

} // namespace profiled
