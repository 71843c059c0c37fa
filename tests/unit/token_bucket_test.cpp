#include "common/ops/token_bucket.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <tuple>

#include <catch2/catch.hpp>

using namespace profiled;
using namespace std::chrono_literals;
using std::chrono::nanoseconds;
using std::chrono::seconds;

namespace {

// An arbitrary fixed origin for the fake clock, well away from the epoch.
const token_bucket::time_point t0 = token_bucket::time_point{} + 1000h;

// Token counts come from floating-point refills; this tolerance is far below any token that matters.
Approx tokens(double expected)
{
    return Approx(expected).margin(1e-9);
}

} // namespace

TEST_CASE("token bucket starts full at burst", "[token_bucket]")
{
    token_bucket bucket({.rate_per_second = 20, .burst = 100}, t0);

    REQUIRE_FALSE(bucket.unlimited());
    REQUIRE(bucket.available(t0) == 100);
    REQUIRE(bucket.wait_for(100, t0) == 0ns);
    REQUIRE(bucket.try_take(100, t0));
    REQUIRE_FALSE(bucket.try_take(1, t0));
}

TEST_CASE("token bucket take and refill arithmetic at exact times", "[token_bucket]")
{
    token_bucket bucket({.rate_per_second = 20, .burst = 100}, t0);

    SECTION("a take lowers the count by exactly n")
    {
        REQUIRE(bucket.try_take(30, t0));
        REQUIRE(bucket.available(t0) == tokens(70));
    }
    SECTION("a refused take takes nothing")
    {
        REQUIRE(bucket.try_take(95, t0));
        REQUIRE_FALSE(bucket.try_take(6, t0));
        REQUIRE(bucket.available(t0) == tokens(5));
    }
    SECTION("an empty bucket refills at rate tokens per second")
    {
        REQUIRE(bucket.take_up_to(1000, t0) == 100);
        REQUIRE(bucket.available(t0 + 50ms) == tokens(1));
        REQUIRE(bucket.available(t0 + 100ms) == tokens(2));
        REQUIRE(bucket.try_take(2, t0 + 100ms));
        REQUIRE(bucket.available(t0 + 1s) == tokens(18));
        REQUIRE(bucket.available(t0 + 3s) == tokens(58));
    }
    SECTION("take_up_to takes all of n when there is enough")
    {
        REQUIRE(bucket.take_up_to(30, t0) == 30);
        REQUIRE(bucket.available(t0) == tokens(70));
    }
    SECTION("take_up_to takes only whole tokens and leaves the fraction")
    {
        REQUIRE(bucket.take_up_to(1000, t0) == 100);
        REQUIRE(bucket.take_up_to(1000, t0 + 175ms) == 3); // 3.5 earned
        REQUIRE(bucket.available(t0 + 175ms) == tokens(0.5));
    }
    SECTION("taking nothing or a negative amount changes nothing")
    {
        REQUIRE(bucket.try_take(0, t0));
        REQUIRE(bucket.take_up_to(0, t0) == 0);
        REQUIRE(bucket.take_up_to(-5, t0) == 0);
        REQUIRE(bucket.wait_for(-5, t0) == 0ns);
        REQUIRE(bucket.available(t0) == 100);
    }
}

TEST_CASE("token bucket accumulates fractional tokens", "[token_bucket]")
{
    SECTION("rate 1/s: no whole token after 0.5 s, one after 1.0 s")
    {
        token_bucket bucket({.rate_per_second = 1, .burst = 10}, t0);
        REQUIRE(bucket.take_up_to(10, t0) == 10);

        REQUIRE(bucket.available(t0 + 500ms) == tokens(0.5));
        REQUIRE(bucket.take_up_to(5, t0 + 500ms) == 0);
        REQUIRE_FALSE(bucket.try_take(1, t0 + 500ms));

        REQUIRE(bucket.take_up_to(5, t0 + 1s) == 1);
        REQUIRE(bucket.available(t0 + 1s) == tokens(0));
    }
    SECTION("a rate that does not divide a second still yields a token when wait_for says so")
    {
        token_bucket bucket({.rate_per_second = 3, .burst = 3}, t0);
        REQUIRE(bucket.take_up_to(3, t0) == 3);
        const nanoseconds wait = bucket.wait_for(1, t0);
        REQUIRE(wait == 333'333'334ns); // 1/3 s, rounded up to the next nanosecond
        REQUIRE_FALSE(bucket.try_take(1, t0 + wait - 1ms));
        REQUIRE(bucket.try_take(1, t0 + wait));
    }
}

TEST_CASE("token bucket counts many small refills that sum to a whole number as whole tokens", "[token_bucket]")
{
    // Each row's step refills sum to just under the whole number in floating point
    // (e.g. ten refills of 0.1 come to 0.9999999999999999), yet the whole tokens must be there.
    double rate = 0;
    int step_ms = 0;
    int steps = 0;
    double whole = 0;
    std::tie(rate, step_ms, steps, whole) = GENERATE(table<double, int, int, double>({
        {10, 10, 10, 1},
        {1200.0 / 60, 7, 50, 7},
        {7, 1, 1000, 7},
        {6, 1, 500, 3},
    }));
    CAPTURE(rate, step_ms, steps, whole);

    token_bucket bucket({.rate_per_second = rate, .burst = 100}, t0);
    REQUIRE(bucket.take_up_to(100, t0) == 100);
    auto now = t0;
    for (int i = 0; i < steps; ++i) {
        now += std::chrono::milliseconds(step_ms);
        REQUIRE(bucket.available(now) < whole + 1e-6);
    }
    REQUIRE(bucket.wait_for(whole, now) == 0ns);

    SECTION("take_up_to takes all of them")
    {
        REQUIRE(bucket.take_up_to(100, now) == whole);
        REQUIRE_FALSE(bucket.try_take(1, now));
    }
    SECTION("try_take takes all of them")
    {
        REQUIRE(bucket.try_take(whole, now));
        REQUIRE(bucket.take_up_to(100, now) == 0);
    }
}

TEST_CASE("token bucket never holds more than burst", "[token_bucket]")
{
    token_bucket bucket({.rate_per_second = 20, .burst = 100}, t0);
    REQUIRE(bucket.try_take(50, t0));

    const auto idle = GENERATE(as<nanoseconds>{}, 5s, 1h, nanoseconds(24h * 365 * 10));
    CAPTURE(idle.count());
    REQUIRE(bucket.available(t0 + idle) == 100);
    REQUIRE(bucket.try_take(100, t0 + idle));
    REQUIRE_FALSE(bucket.try_take(1, t0 + idle));
}

TEST_CASE("token bucket wait_for gives the exact time until n tokens", "[token_bucket]")
{
    // Rate 20/s and burst 100, emptied at t0, asked for n at t0 + elapsed.
    double n = 0;
    nanoseconds elapsed{};
    nanoseconds expected{};
    std::tie(n, elapsed, expected) = GENERATE(table<double, nanoseconds, nanoseconds>({
        {1, 0ns, 50ms},
        {20, 0ns, 1s},
        {100, 0ns, 5s},
        {500, 0ns, 5s}, // more than burst waits for a full bucket, not forever
        {1, 30ms, 20ms},
        {1, 50ms, 0ns},
        {2, 50ms, 50ms},
        {100, 2s, 3s},
        {0, 0ns, 0ns},
    }));
    CAPTURE(n, elapsed.count(), expected.count());

    token_bucket bucket({.rate_per_second = 20, .burst = 100}, t0);
    REQUIRE(bucket.take_up_to(100, t0) == 100);
    const nanoseconds wait = bucket.wait_for(n, t0 + elapsed);
    REQUIRE(wait == expected);
    // Waiting exactly that long is enough.
    REQUIRE(bucket.try_take(std::min(n, 100.0), t0 + elapsed + wait));
}

TEST_CASE("token bucket retry_after rounds the wait up to whole seconds", "[token_bucket][retry_after]")
{
    // Rate 10/s and burst 20, emptied at t0 (or 1/s and burst 1 for the 1 µs case).
    double rate = 0;
    double burst = 0;
    double n = 0;
    nanoseconds elapsed{};
    seconds expected{};
    std::tie(rate, burst, n, elapsed, expected) = GENERATE(table<double, double, double, nanoseconds, seconds>({
        {10, 20, 2, 0ns, 1s},     // waits 0.2 s
        {10, 20, 10, 0ns, 1s},    // waits 1.0 s
        {10, 20, 10.1, 0ns, 2s},  // waits 1.01 s
        {10, 20, 20, 0ns, 2s},    // waits 2.0 s
        {10, 20, 1, 100ms, 0s},   // available now: no Retry-After needed
        {1, 1, 1, 999'999us, 1s}, // a 1 µs wait still says 1 s, never 0 while refusing
    }));
    CAPTURE(rate, burst, n, elapsed.count(), expected.count());

    token_bucket bucket({.rate_per_second = rate, .burst = burst}, t0);
    REQUIRE(bucket.take_up_to(burst, t0) == burst);
    REQUIRE(bucket.retry_after(n, t0 + elapsed) == expected);
    // Retrying after the advertised delay succeeds.
    REQUIRE(bucket.try_take(n, t0 + elapsed + expected));
}

TEST_CASE("token bucket with rate 0 is unlimited and never waits", "[token_bucket][unlimited]")
{
    token_bucket bucket({.rate_per_second = 0, .burst = 100}, t0);

    REQUIRE(bucket.unlimited());
    REQUIRE(bucket.available(t0) == std::numeric_limits<double>::infinity());
    for (int i = 0; i < 10; ++i) {
        REQUIRE(bucket.try_take(1e9, t0));
        REQUIRE(bucket.take_up_to(5000, t0) == 5000);
    }
    REQUIRE(bucket.take_up_to(7.5, t0) == 7); // still whole tokens
    REQUIRE(bucket.wait_for(1e9, t0) == 0ns);
    REQUIRE(bucket.retry_after(1e9, t0) == 0s);
}

TEST_CASE("token bucket reconfigure changes rate and burst at run time", "[token_bucket][reconfigure]")
{
    token_bucket bucket({.rate_per_second = 10, .burst = 100}, t0);
    REQUIRE(bucket.take_up_to(100, t0) == 100);

    SECTION("raising the rate keeps what the old rate earned and refills faster from then on")
    {
        bucket.reconfigure({.rate_per_second = 20, .burst = 100}, t0 + 1s);
        REQUIRE(bucket.config().rate_per_second == 20);
        REQUIRE(bucket.available(t0 + 1s) == tokens(10));
        REQUIRE(bucket.available(t0 + 2s) == tokens(30));
    }
    SECTION("lowering the rate keeps what the old rate earned and refills slower from then on")
    {
        bucket.reconfigure({.rate_per_second = 2, .burst = 100}, t0 + 1s);
        REQUIRE(bucket.available(t0 + 1s) == tokens(10));
        REQUIRE(bucket.available(t0 + 2s) == tokens(12));
        REQUIRE(bucket.wait_for(14, t0 + 2s) == 1s);
    }
    SECTION("lowering the burst clamps the tokens held")
    {
        bucket.reconfigure({.rate_per_second = 10, .burst = 100}, t0 + 10s); // full again
        bucket.reconfigure({.rate_per_second = 10, .burst = 30}, t0 + 10s);
        REQUIRE(bucket.available(t0 + 10s) == 30);
        REQUIRE(bucket.available(t0 + 1h) == 30);
        REQUIRE_FALSE(bucket.try_take(31, t0 + 1h));
    }
    SECTION("raising the burst adds room, not tokens")
    {
        bucket.reconfigure({.rate_per_second = 10, .burst = 200}, t0 + 5s);
        REQUIRE(bucket.available(t0 + 5s) == tokens(50));
        REQUIRE(bucket.available(t0 + 1h) == 200);
    }
    SECTION("switching to unlimited and back starts full at the new burst")
    {
        bucket.reconfigure({.rate_per_second = 0, .burst = 100}, t0 + 1s);
        REQUIRE(bucket.unlimited());
        REQUIRE(bucket.try_take(1e6, t0 + 1s));
        bucket.reconfigure({.rate_per_second = 10, .burst = 40}, t0 + 2s);
        REQUIRE_FALSE(bucket.unlimited());
        REQUIRE(bucket.available(t0 + 2s) == 40);
    }
    SECTION("an invalid configuration is refused and the old one stays in force")
    {
        REQUIRE_THROWS_AS(bucket.reconfigure({.rate_per_second = -1, .burst = 100}, t0 + 1s),
                          std::invalid_argument);
        REQUIRE(bucket.config().rate_per_second == 10);
        REQUIRE(bucket.available(t0 + 1s) == tokens(10));
    }
}

TEST_CASE("token bucket refuses configurations it cannot honour", "[token_bucket]")
{
    double rate = 0;
    double burst = 0;
    std::tie(rate, burst) = GENERATE(table<double, double>({
        {-1, 100},
        {std::nan(""), 100},
        {std::numeric_limits<double>::infinity(), 100},
        {20, 0},
        {20, 0.5}, // no whole token could ever be taken
        {20, -1},
        {20, std::numeric_limits<double>::infinity()},
    }));
    CAPTURE(rate, burst);
    REQUIRE_THROWS_AS(token_bucket({.rate_per_second = rate, .burst = burst}, t0), std::invalid_argument);
}

TEST_CASE("token bucket ignores time that does not move forward", "[token_bucket]")
{
    token_bucket bucket({.rate_per_second = 20, .burst = 100}, t0);
    REQUIRE(bucket.take_up_to(100, t0 + 10s) == 100);

    SECTION("the same time point adds nothing however often it is seen")
    {
        for (int i = 0; i < 5; ++i)
            REQUIRE(bucket.available(t0 + 10s) == 0);
        REQUIRE_FALSE(bucket.try_take(1, t0 + 10s));
    }
    SECTION("an earlier time point adds nothing and does not pay the interval out twice")
    {
        REQUIRE(bucket.available(t0 + 5s) == 0);
        REQUIRE_FALSE(bucket.try_take(1, t0 + 5s));
        REQUIRE(bucket.take_up_to(10, t0) == 0);
        REQUIRE(bucket.available(t0 + 10s) == 0);
        REQUIRE(bucket.available(t0 + 10s + 500ms) == tokens(10));
    }
    SECTION("an earlier time point still reports a sensible wait")
    {
        REQUIRE(bucket.wait_for(1, t0 + 5s) == 50ms);
        REQUIRE(bucket.retry_after(1, t0 + 5s) == 1s);
    }
}

TEST_CASE("token bucket at 1,200 rows per minute with burst 100 delivers 20 rows per second",
          "[token_bucket][steady_state]")
{
    // The job runner's loop: every 100 ms a chunk takes what the bucket allows.
    token_bucket bucket({.rate_per_second = 1200.0 / 60, .burst = 100}, t0);

    double total = 0;
    double in_last_second = 0;
    for (int tick = 0; tick <= 600; ++tick) {
        const double taken = bucket.take_up_to(500, t0 + tick * 100ms);
        total += taken;
        in_last_second += taken;
        if (tick % 10 == 0) {
            // After the first second the initial burst is spent and only the refill rate remains.
            if (tick >= 20) {
                CAPTURE(tick);
                REQUIRE(in_last_second == Approx(20).margin(1));
            }
            in_last_second = 0;
        }
    }
    REQUIRE(total == Approx(100 + 1200).margin(1));
}
