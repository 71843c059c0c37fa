// This process's resource use, read from /proc/self, for the standard process_* metrics.
#pragma once

#include <optional>

namespace profiled {

struct process_stats {
    double cpu_seconds = 0; // user and system time
    double resident_bytes = 0;
    double virtual_bytes = 0;
    double open_fds = 0;
    double max_fds = 0;            // the soft RLIMIT_NOFILE
    double start_time_seconds = 0; // since the Unix epoch
};

// What /proc/self says now; nothing when /proc cannot be read (not Linux, or not mounted).
std::optional<process_stats> read_process_stats();

} // namespace profiled
