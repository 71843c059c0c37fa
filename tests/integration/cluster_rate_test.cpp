// Several daemons on one PostgreSQL database share a project's row rate: with jobs of one project queued on two
// daemons, the project advances at the configured rows per minute, not once per daemon.
#include <chrono>
#include <string>
#include <thread>

#include <catch2/catch.hpp>

#include "tests/support/bulk_jobs.hpp"
#include "tests/support/postgres_query.hpp"
#include "tests/support/postgres_server.hpp"
#include "tests/support/test_daemon.hpp"

using namespace profiled::test;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

TEST_CASE("rate across daemons: two daemons, one project at 1,200 rows a minute advance at 20 rows a second",
          "[integration][postgres][rate]")
{
    std::string url = fresh_postgres_url();
    daemon_options options;
    options.database = url;
    // A small burst, so that the measurement starts from a bucket drained to its steady rate.
    std::vector<std::string> rate = {"--rows-per-minute", "1200", "--rows-burst", "10"};
    test_daemon first(rate, options);
    test_daemon second(rate, options);

    // One job on each daemon (and one more): either could run any of them, and each would run one at 20 rows/s.
    REQUIRE(upload_ndjson(first, "users", user_rows(400, 0, "a")).status == 202);
    REQUIRE(upload_ndjson(second, "users", user_rows(400, 1000, "b")).status == 202);
    REQUIRE(upload_ndjson(second, "users", user_rows(400, 2000, "c")).status == 202);
    const std::string processed = "SELECT coalesce(sum(processed_rows), 0) FROM jobs";

    auto deadline = steady::now() + 10s;
    while (query_number(url, processed) < 30 && steady::now() < deadline)
        std::this_thread::sleep_for(20ms);
    REQUIRE(query_number(url, processed) >= 30);

    auto started = steady::now();
    long long at_start = query_number(url, processed);
    std::this_thread::sleep_for(10s);
    long long at_end = query_number(url, processed);
    double seconds = std::chrono::duration<double>(steady::now() - started).count();
    double rows_per_second = static_cast<double>(at_end - at_start) / seconds;
    CAPTURE(at_start, at_end, seconds);
    CHECK(rows_per_second >= 18.0);
    CHECK(rows_per_second <= 22.0);
    // Never two of the project's jobs under way at once.
    CHECK(query_number(url, "SELECT count(*) FROM jobs WHERE status = 'running'") == 1);
}
