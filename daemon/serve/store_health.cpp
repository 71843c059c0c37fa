#include "daemon/serve/store_health.hpp"

#include "common/ops/log.hpp"

namespace profiled {

void store_health::reached() noexcept
{
    if (reachable_.load(std::memory_order_relaxed) || reachable_.exchange(true))
        return;
    try {
        log_event(log_level::info, "store.reachable", "the database can be reached again");
    } catch (...) {
        // A log line that cannot be written changes nothing about the database.
    }
}

void store_health::failed(const store_error& e) noexcept
{
    if (e.kind() != store_failure::unavailable || !reachable_.exchange(false))
        return;
    try {
        log_event(log_level::warn, "store.unreachable", e.what());
    } catch (...) {
    }
}

} // namespace profiled
