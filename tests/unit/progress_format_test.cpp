// The import command's progress display: rate over a window, ETA, durations, bar and plain lines, summary.
#include "common/ops/progress_format.hpp"

#include <string>
#include <tuple>

#include <catch2/catch.hpp>

using namespace profiled;

TEST_CASE("progress rate estimator follows the recent pace", "[progress]")
{
    rate_estimator rates(10.0);

    SECTION("one sample gives no rate")
    {
        rates.add(0, 0);
        CHECK_FALSE(rates.rows_per_second());
    }
    SECTION("two samples at the same instant give no rate")
    {
        rates.add(3, 0);
        rates.add(3, 50);
        CHECK_FALSE(rates.rows_per_second());
    }
    SECTION("steady progress gives its rate")
    {
        for (int second = 0; second <= 5; ++second)
            rates.add(second, second * 20);
        REQUIRE(rates.rows_per_second());
        CHECK(*rates.rows_per_second() == Approx(20.0));
    }
    SECTION("a pause counts while it is inside the window")
    {
        rates.add(0, 0);
        rates.add(5, 100);
        rates.add(10, 100);
        CHECK(*rates.rows_per_second() == Approx(10.0));
    }
    SECTION("a pace change wins once the old pace leaves the window")
    {
        // 100 rows/s for 10 s, then 5 rows/s for 20 s: the window sees only the slow part.
        for (int second = 0; second <= 10; ++second)
            rates.add(second, second * 100);
        for (int second = 11; second <= 30; ++second)
            rates.add(second, 1000 + (second - 10) * 5);
        CHECK(*rates.rows_per_second() == Approx(5.0));
    }
}

TEST_CASE("progress ETA from rows left and rate", "[progress]")
{
    CHECK(*eta_seconds(500, 1000, 20.0) == Approx(25.0));
    CHECK(*eta_seconds(1000, 1000, std::nullopt) == 0.0);
    CHECK_FALSE(eta_seconds(0, 1000, std::nullopt));
    CHECK_FALSE(eta_seconds(10, 1000, 0.0));
}

TEST_CASE("progress durations, rates and percentages read well", "[progress]")
{
    SECTION("durations")
    {
        double seconds;
        std::string expected;
        std::tie(seconds, expected) = GENERATE(table<double, std::string>({
            {0.0, "0s"},
            {-3.0, "0s"},
            {0.44, "0.4s"},
            {9.99, "9.9s"},
            {12.4, "12s"},
            {59.6, "1m00s"},
            {65, "1m05s"},
            {3599, "59m59s"},
            {3600 * 2 + 4 * 60 + 10, "2h04m"},
        }));
        CAPTURE(seconds);
        CHECK(format_duration(seconds) == expected);
    }
    SECTION("rates")
    {
        CHECK(format_rate(std::nullopt) == "-- rows/s");
        CHECK(format_rate(2.54) == "2.5 rows/s");
        CHECK(format_rate(19.6) == "20 rows/s");
        CHECK(format_rate(1234.4) == "1234 rows/s");
    }
    SECTION("percentages never claim 100% early")
    {
        CHECK(format_percent(0, 1000) == "0.0%");
        CHECK(format_percent(500, 1000) == "50.0%");
        CHECK(format_percent(9999, 10000) == "99.9%");
        CHECK(format_percent(10000, 10000) == "100.0%");
        CHECK(format_percent(0, 0) == "0.0%");
    }
}

TEST_CASE("progress bar line fits the terminal", "[progress]")
{
    progress_snapshot half{"running", 500, 1000, 20.0};

    SECTION("a wide terminal gets a 30-character bar, half filled")
    {
        std::string line = progress_bar_line(half, 200);
        CHECK(line == "[###############...............]  500/1000  50.0%  20 rows/s  ETA 25s");
    }
    SECTION("an 80-column terminal never wraps")
    {
        progress_snapshot big{"running", 123456, 9999999, 1234.0};
        std::string line = progress_bar_line(big, 80);
        CHECK(line.size() < 80);
        CHECK(line.front() == '[');
    }
    SECTION("a very narrow terminal drops the bar, not the numbers")
    {
        CHECK(progress_bar_line(half, 40) == "500/1000  50.0%  20 rows/s  ETA 25s");
    }
    SECTION("a queued job says it waits instead of a rate")
    {
        std::string line = progress_bar_line({"queued", 0, 1000, std::nullopt}, 120);
        CHECK(line.find("0/1000  0.0%  waiting for the runner") != std::string::npos);
        CHECK(line.find("[....") == 0);
    }
    SECTION("an unknown rate shows no ETA")
    {
        CHECK(progress_bar_line({"running", 0, 10, std::nullopt}, 30) == "0/10  0.0%  -- rows/s  ETA --");
    }
    SECTION("a finished job fills the bar")
    {
        std::string line = progress_bar_line({"done", 10, 10, 5.0}, 200);
        CHECK(line.rfind("[" + std::string(30, '#') + "]", 0) == 0);
        CHECK(line.find("100.0%  5.0 rows/s  ETA 0s") != std::string::npos);
    }
}

TEST_CASE("progress plain lines and the import summary", "[progress]")
{
    CHECK(progress_plain_line({"running", 500, 1000, 20.0}) == "running: 500/1000 rows (50.0%), 20 rows/s, ETA 25s");
    CHECK(progress_plain_line({"queued", 0, 7, std::nullopt}) == "queued: 0/7 rows (0.0%), waiting for the runner");
    CHECK(import_summary_line("done", 10, 2, 3.46) == "done: 10 rows processed (8 applied, 2 failed) in 3.4s");
    CHECK(import_summary_line("failed", 3, 3, 75) == "failed: 3 rows processed (0 applied, 3 failed) in 1m15s");
}
