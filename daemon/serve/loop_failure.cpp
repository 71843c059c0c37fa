#include "daemon/serve/loop_failure.hpp"

#include <stdexcept>

#include "common/ops/log.hpp"

namespace profiled {

void fail_loudly::operator()(std::exception_ptr e) const
{
    if (!e)
        return;
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& ex) {
        log_event(log_level::error, "server.loop_failed", ex.what(), {{"loop", loop}});
    } catch (...) {
        log_event(log_level::error, "server.loop_failed", "unknown exception", {{"loop", loop}});
    }
    std::rethrow_exception(e);
}

} // namespace profiled
