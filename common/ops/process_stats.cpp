#include "common/ops/process_stats.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/resource.h>
#include <unistd.h>

namespace profiled {
namespace {

// The boot time (btime in /proc/stat) in seconds since the epoch, 0 when unknown.
double boot_time_seconds()
{
    std::ifstream in("/proc/stat");
    std::string word;
    while (in >> word) {
        if (word == "btime") {
            double value = 0;
            in >> value;
            return value;
        }
    }
    return 0;
}

} // namespace

std::optional<process_stats> read_process_stats()
{
    std::ifstream stat_file("/proc/self/stat");
    std::string stat;
    if (!std::getline(stat_file, stat))
        return std::nullopt;
    // The command name (field 2) is in parentheses and may hold spaces: count fields from the last ')'.
    auto close = stat.rfind(')');
    if (close == std::string::npos)
        return std::nullopt;
    std::istringstream fields(stat.substr(close + 2));
    // Fields from 3 (state) on; utime is 14, stime 15, starttime 22, vsize 23, rss 24.
    std::string field;
    double utime = 0, stime = 0, starttime = 0, vsize = 0, rss_pages = 0;
    for (int number = 3; number <= 24 && fields >> field; ++number) {
        if (number == 14)
            utime = std::stod(field);
        else if (number == 15)
            stime = std::stod(field);
        else if (number == 22)
            starttime = std::stod(field);
        else if (number == 23)
            vsize = std::stod(field);
        else if (number == 24)
            rss_pages = std::stod(field);
    }
    double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
    process_stats out;
    out.cpu_seconds = (utime + stime) / ticks;
    out.virtual_bytes = vsize;
    out.resident_bytes = rss_pages * static_cast<double>(::sysconf(_SC_PAGESIZE));
    out.start_time_seconds = boot_time_seconds() + starttime / ticks;
    std::error_code ec;
    for (std::filesystem::directory_iterator it("/proc/self/fd", ec), end; !ec && it != end; it.increment(ec))
        ++out.open_fds;
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) == 0)
        out.max_fds = limit.rlim_cur == RLIM_INFINITY ? 0 : static_cast<double>(limit.rlim_cur);
    return out;
}

} // namespace profiled
