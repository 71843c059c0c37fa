// The process's open-file limit, which bounds how many connections the daemon can hold.
#pragma once

#include <cstdint>

namespace profiled {

// Raises the soft RLIMIT_NOFILE to the hard one, and warns (server.fd_limit) when max_connections plus the
// descriptors the daemon needs for itself would not fit under it.
void raise_fd_limit(std::uint32_t max_connections);

} // namespace profiled
