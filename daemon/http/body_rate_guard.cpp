#include "daemon/http/body_rate_guard.hpp"

namespace profiled {

body_rate_guard::body_rate_guard(std::uint64_t min_bytes_per_second, std::chrono::seconds window,
                                 clock::time_point start)
    : min_bytes_per_second_(min_bytes_per_second), window_(window), window_start_(start)
{
}

bool body_rate_guard::too_slow(clock::time_point now)
{
    if (!enabled())
        return false;
    const std::uint64_t needed = min_bytes_per_second_ * static_cast<std::uint64_t>(window_.count());
    while (now >= window_start_ + window_) {
        if (in_window_ < needed)
            return true;
        window_start_ += window_;
        in_window_ = 0;
    }
    return false;
}

} // namespace profiled
