// The minimum body data rate, on a clock the test moves by hand.
#include <catch2/catch.hpp>

#include "daemon/http/body_rate_guard.hpp"

using profiled::body_rate_guard;
using namespace std::chrono_literals;

TEST_CASE("a body below the minimum rate over a whole window is too slow", "[rate][unit]")
{
    auto t0 = body_rate_guard::clock::time_point{} + 1000s;
    body_rate_guard guard(100, 10s, t0);
    REQUIRE(guard.enabled());
    CHECK(guard.window_end() == t0 + 10s);

    SECTION("enough bytes in each window keep it going")
    {
        for (int w = 0; w < 5; ++w) {
            CHECK_FALSE(guard.too_slow(t0 + std::chrono::seconds(10 * w + 5)));
            guard.received(1000);
        }
        CHECK_FALSE(guard.too_slow(t0 + 50s));
        CHECK(guard.window_end() == t0 + 60s);
    }
    SECTION("one byte short in a window is too slow once that window has ended")
    {
        guard.received(999);
        CHECK_FALSE(guard.too_slow(t0 + 9s));
        CHECK(guard.too_slow(t0 + 10s));
    }
    SECTION("a burst after a silent window does not save it: the silent window counts")
    {
        CHECK(guard.too_slow(t0 + 25s));
    }
    SECTION("nothing is judged before the first window ends")
    {
        CHECK_FALSE(guard.too_slow(t0 + 9999ms));
    }
}

TEST_CASE("a minimum rate of 0 turns the guard off", "[rate][unit]")
{
    auto t0 = body_rate_guard::clock::time_point{};
    body_rate_guard guard(0, 10s, t0);
    CHECK_FALSE(guard.enabled());
    CHECK_FALSE(guard.too_slow(t0 + 3600s));
}
