// The minimum data rate for request bodies: the clock is passed in, so the rule is testable without sleeping.
#pragma once

#include <chrono>
#include <cstdint>

namespace profiled {

class body_rate_guard {
public:
    using clock = std::chrono::steady_clock;

    // min_bytes_per_second 0 turns the guard off; the first window starts at start.
    body_rate_guard(std::uint64_t min_bytes_per_second, std::chrono::seconds window, clock::time_point start);

    // Counts bytes received at now; call too_slow(now) first, so they land in the window they arrived in.
    void received(std::uint64_t bytes) { in_window_ += bytes; }
    // True once a whole window has passed with fewer than min_bytes_per_second × window bytes in it.
    bool too_slow(clock::time_point now);
    // When the current window ends: the latest moment to ask too_slow again.
    clock::time_point window_end() const { return window_start_ + window_; }
    // Whether the guard checks anything.
    bool enabled() const { return min_bytes_per_second_ > 0; }

private:
    std::uint64_t min_bytes_per_second_;
    std::chrono::seconds window_;
    clock::time_point window_start_;
    std::uint64_t in_window_ = 0;
};

} // namespace profiled
