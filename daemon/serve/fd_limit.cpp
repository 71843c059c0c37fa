#include "daemon/serve/fd_limit.hpp"

#include <sys/resource.h>

#include "common/ops/log.hpp"

namespace profiled {

namespace {
// Descriptors for the database, its WAL, spool files, the listener and the notify socket.
constexpr rlim_t reserved_fds = 64;
} // namespace

void raise_fd_limit(std::uint32_t max_connections)
{
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0)
        return;
    if (limit.rlim_cur < limit.rlim_max) {
        rlimit raised = limit;
        raised.rlim_cur = limit.rlim_max;
        if (::setrlimit(RLIMIT_NOFILE, &raised) == 0)
            limit = raised;
    }
    if (limit.rlim_cur != RLIM_INFINITY && max_connections + reserved_fds > limit.rlim_cur) {
        log_event(log_level::warn, "server.fd_limit",
                  "max-connections does not fit under the open-file limit; accepts will fail before the cap",
                  {{"max_connections", static_cast<std::int64_t>(max_connections)},
                   {"open_file_limit", static_cast<std::int64_t>(limit.rlim_cur)}});
    }
}

} // namespace profiled
