// Rate limiting by token bucket (after Tor's token_bucket): configuration apart from state, and
// the caller passes the current time in so tests and the job runner never read a clock here.
#pragma once

#include <chrono>

namespace profiled {

// How fast a bucket refills and how much it can hold; rate 0 means unlimited.
struct token_bucket_config {
    double rate_per_second = 20; // 1,200 rows per minute
    double burst = 100;
};

// A bucket of fractional tokens refilled continuously at config().rate_per_second up to config().burst.
class token_bucket {
public:
    using time_point = std::chrono::steady_clock::time_point;

    // A full bucket; throws std::invalid_argument for a negative or non-finite rate, or a burst below 1.
    token_bucket(token_bucket_config cfg, time_point now);

    // Changes rate and burst at run time: tokens earned so far at the old rate are kept, up to the new burst.
    void reconfigure(token_bucket_config cfg, time_point now);
    // The number of tokens (possibly fractional) available now; +infinity when unlimited.
    double available(time_point now);
    // Takes n tokens if that many are available, else nothing; n above burst therefore never succeeds.
    bool try_take(double n, time_point now);
    // Takes as many whole tokens as are available, up to n, and returns how many it took.
    double take_up_to(double n, time_point now);
    // How long until n tokens are available (n clamped to burst); zero if they are available now.
    std::chrono::nanoseconds wait_for(double n, time_point now);
    // wait_for rounded up to whole seconds, at least 1 when n is not available now: an HTTP Retry-After.
    std::chrono::seconds retry_after(double n, time_point now);

    // True when the rate is 0: every take succeeds and nothing waits.
    bool unlimited() const;
    // The configuration in force.
    const token_bucket_config& config() const;

private:
    // Adds the tokens earned since the last refill, up to burst.
    void refill(time_point now);

    token_bucket_config config_;
    double tokens_;
    time_point refilled_at_;
};

} // namespace profiled
