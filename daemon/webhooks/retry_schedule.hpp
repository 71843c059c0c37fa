// When a failed webhook delivery is tried again: exponential backoff with full jitter.
#pragma once

#include <cstdint>

namespace profiled {

// The longest wait between two attempts, in seconds.
inline constexpr double max_retry_delay_seconds = 3600;

// The upper bound of the wait after the given failed attempt (1 = the first): base * 2^(attempt-1), at most
// max_retry_delay_seconds.
double retry_delay_bound(double base_seconds, std::int64_t attempt);
// The wait itself: the bound times unit, a uniform random number in [0, 1) ("full jitter", so that receivers
// coming back from an outage are not hit by every sender at once).
double retry_delay(double base_seconds, std::int64_t attempt, double unit);

} // namespace profiled
