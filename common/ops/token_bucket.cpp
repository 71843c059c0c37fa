#include "common/ops/token_bucket.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace profiled {

namespace {

// Refill is floating point, so 10 tokens/s over 0.1 s may come to 0.9999999999999999: a token this
// close to whole counts as whole, or a chunk would miss its row and wait a whole extra refill.
constexpr double whole_token_slack = 1e-9;

// Rejects configurations that would never let a whole token through or that make the arithmetic meaningless.
void check(const token_bucket_config& cfg)
{
    if (!std::isfinite(cfg.rate_per_second) || cfg.rate_per_second < 0)
        throw std::invalid_argument("token bucket rate must be a finite number >= 0");
    // take_up_to hands out whole tokens, so a burst below 1 would block the caller forever.
    if (!std::isfinite(cfg.burst) || cfg.burst < 1)
        throw std::invalid_argument("token bucket burst must be a finite number >= 1");
}

} // namespace

token_bucket::token_bucket(token_bucket_config cfg, time_point now)
    : config_(cfg), tokens_(cfg.burst), refilled_at_(now)
{
    check(config_);
}

void token_bucket::reconfigure(token_bucket_config cfg, time_point now)
{
    check(cfg);
    refill(now);
    // An unlimited bucket never tracked its tokens; leaving unlimited starts full, as a new bucket would.
    if (unlimited())
        tokens_ = cfg.burst;
    config_ = cfg;
    tokens_ = std::min(tokens_, config_.burst);
}

double token_bucket::available(time_point now)
{
    if (unlimited())
        return std::numeric_limits<double>::infinity();
    refill(now);
    return tokens_;
}

bool token_bucket::try_take(double n, time_point now)
{
    if (unlimited() || !(n > 0))
        return true;
    refill(now);
    if (tokens_ + whole_token_slack < n)
        return false;
    tokens_ = std::max(0.0, tokens_ - n);
    return true;
}

double token_bucket::take_up_to(double n, time_point now)
{
    if (!(n > 0))
        return 0;
    if (unlimited())
        return std::floor(n);
    refill(now);
    const double taken = std::floor(std::min(n, tokens_ + whole_token_slack));
    tokens_ = std::max(0.0, tokens_ - taken);
    return taken;
}

std::chrono::nanoseconds token_bucket::wait_for(double n, time_point now)
{
    if (unlimited() || !(n > 0))
        return std::chrono::nanoseconds::zero();
    refill(now);
    // More than burst could never be available at once; waiting for a full bucket is the best there is.
    const double deficit = std::min(n, config_.burst) - tokens_;
    if (deficit <= whole_token_slack)
        return std::chrono::nanoseconds::zero();
    // Round up so that waiting exactly this long always yields the tokens.
    const double ns = std::ceil(deficit * 1e9 / config_.rate_per_second);
    constexpr auto longest = std::chrono::nanoseconds::max();
    if (ns >= static_cast<double>(longest.count()))
        return longest;
    return std::chrono::nanoseconds(static_cast<std::chrono::nanoseconds::rep>(ns));
}

std::chrono::seconds token_bucket::retry_after(double n, time_point now)
{
    // A positive wait rounds up to at least 1 s, so a client never sees "Retry-After: 0" while refused.
    return std::chrono::ceil<std::chrono::seconds>(wait_for(n, now));
}

bool token_bucket::unlimited() const
{
    return config_.rate_per_second == 0;
}

const token_bucket_config& token_bucket::config() const
{
    return config_;
}

void token_bucket::refill(time_point now)
{
    // A time point at or before the last refill adds nothing, and the mark never moves back, so a
    // stale time passed in cannot make the same interval pay out twice.
    if (now <= refilled_at_)
        return;
    const auto elapsed = std::chrono::duration_cast<std::chrono::nanoseconds>(now - refilled_at_);
    refilled_at_ = now;
    if (unlimited())
        return;
    // Multiplying before dividing keeps whole rates over whole milliseconds exact (20/s over 100 ms is 2.0).
    const double earned = config_.rate_per_second * static_cast<double>(elapsed.count()) / 1e9;
    tokens_ = std::min(config_.burst, tokens_ + earned);
}

} // namespace profiled
