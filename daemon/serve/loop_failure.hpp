// The end of the daemon's long-running loops (accept loop, job runner, watchdog): none may die quietly.
#pragma once

#include <exception>

namespace profiled {

// A co_spawn completion handler for a loop the daemon cannot live without: when the loop ends in an
// exception it logs server.loop_failed and rethrows, so the event loop stops and `profiled serve` exits 1
// instead of serving on half-dead.
struct fail_loudly {
    const char* loop;
    void operator()(std::exception_ptr e) const;
};

} // namespace profiled
