// Whether the database can be reached, as the threads that use it last found: /readyz reads it without asking the
// database, so the io thread never waits on it.
#pragma once

#include <atomic>

#include "common/store/store_error.hpp"

namespace profiled {

class store_health {
public:
    // A store call just succeeded: the database is reachable (logged as store.reachable when it was not).
    void reached() noexcept;
    // A store call just failed: when it failed for want of the database (store_failure::unavailable), the
    // database is unreachable until a call succeeds again (logged as store.unreachable); other failures say
    // nothing about reaching it.
    void failed(const store_error& e) noexcept;
    // As the last call that could tell found it; true until one says otherwise. Callable from any thread.
    bool reachable() const noexcept { return reachable_.load(std::memory_order_relaxed); }

private:
    std::atomic<bool> reachable_{true};
};

} // namespace profiled
