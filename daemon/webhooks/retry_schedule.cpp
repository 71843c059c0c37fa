#include "daemon/webhooks/retry_schedule.hpp"

#include <algorithm>
#include <cmath>

namespace profiled {

double retry_delay_bound(double base_seconds, std::int64_t attempt)
{
    // 2^62 already overflows any base into the cap; std::ldexp keeps it exact below.
    int exponent = static_cast<int>(std::clamp<std::int64_t>(attempt - 1, 0, 62));
    return std::min(max_retry_delay_seconds, std::ldexp(base_seconds, exponent));
}

double retry_delay(double base_seconds, std::int64_t attempt, double unit)
{
    return retry_delay_bound(base_seconds, attempt) * std::clamp(unit, 0.0, 1.0);
}

} // namespace profiled
