// Several daemons on one PostgreSQL database: a job accepted by one daemon and run by another (the one working its
// project) is reported as the store has it by both, up to its end.
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

TEST_CASE("a job accepted by one daemon and run by another is reported as the store has it by both",
          "[integration][postgres][jobs]")
{
    std::string url = fresh_postgres_url();
    daemon_options options;
    options.database = url;
    // 100 rows a second: the first job still holds the project when the second arrives.
    std::vector<std::string> rate = {"--rows-per-minute", "6000", "--rows-burst", "10"};
    test_daemon runs(rate, options);
    test_daemon accepts(rate, options);

    auto first = upload_ndjson(runs, "users", user_rows(200, 0, "first"));
    REQUIRE(first.status == 202);
    std::string first_id = string_field(first.json().as_object(), "job_id");
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (string_field(fetch_job(runs, first_id), "status") != "running" &&
           std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(10ms);
    auto second = upload_ndjson(accepts, "users", user_rows(30, 1000, "second"));
    REQUIRE(second.status == 202);
    std::string second_id = string_field(second.json().as_object(), "job_id");

    // The daemon working the project takes its next job too (its rows are in the database's spool); the one that
    // accepted it does not answer from its memory of the upload (queued for ever) but as the store has the job.
    auto seen = wait_for_job_end(accepts, second_id, 20000);
    std::string status = string_field(seen, "status");
    CHECK(status == "done");
    CHECK(int_field(seen, "processed_rows") == 30);
    auto stored = query_rows(url, "SELECT status, processed_rows FROM jobs WHERE job_id = '" + second_id + "'");
    REQUIRE(stored.size() == 1);
    CHECK(status == stored[0][0]);
    CHECK(int_field(seen, "processed_rows") == std::stoll(stored[0][1]));
    CHECK(string_field(wait_for_job_end(runs, second_id, 5000), "status") == status);
}
