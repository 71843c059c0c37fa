// Several daemons on one PostgreSQL database: a cancel received by one daemon stops the job another runs at its next
// chunk, and a cancel asked for while the daemon running the job is down holds when it comes back.
#include <chrono>
#include <csignal>
#include <string>
#include <thread>

#include <catch2/catch.hpp>

#include "tests/support/api_checks.hpp"
#include "tests/support/bulk_jobs.hpp"
#include "tests/support/postgres_query.hpp"
#include "tests/support/postgres_server.hpp"
#include "tests/support/test_daemon.hpp"

using namespace profiled::test;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

// Whether the daemon logged this event for the job (with cancelled: true, when asked).
bool logged(const test_daemon& d, const std::string& event, const std::string& job_id, bool cancelled = false)
{
    for (const auto& line : d.log_lines())
        if (line.contains("event") && line.at("event") == event.c_str() && line.contains("job_id") &&
            line.at("job_id") == job_id.c_str() && (!cancelled || (line.contains("cancelled") && line.at("cancelled") == true)))
            return true;
    return false;
}

// The daemon (0 or 1) that started the job, once one did (within 10 s).
int runner_of(const test_daemon& a, const test_daemon& b, const std::string& job_id)
{
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < deadline) {
        if (logged(a, "job.started", job_id))
            return 0;
        if (logged(b, "job.started", job_id))
            return 1;
        std::this_thread::sleep_for(20ms);
    }
    FAIL("no daemon started job " << job_id);
    return -1;
}

// POST /v1/background_jobs/{job_id}/cancel with the daemon's secret key.
http_reply cancel(const test_daemon& d, const std::string& job_id)
{
    return d.call("POST", "/v1/background_jobs/" + job_id + "/cancel");
}

// The job's stored processed_rows.
long long stored_processed(const std::string& url, const std::string& job_id)
{
    return query_number(url, "SELECT processed_rows FROM jobs WHERE job_id = '" + job_id + "'");
}

} // namespace

TEST_CASE("a cancel received by one daemon ends the job another runs, also across that daemon's restart",
          "[integration][postgres][jobs][cancel]")
{
    std::string url = fresh_postgres_url();
    daemon_options options;
    options.database = url;
    // 10 rows a second after a burst of 5: a job of 300 rows runs for half a minute.
    std::vector<std::string> rate = {"--rows-per-minute", "600", "--rows-burst", "5"};
    test_daemon a(rate, options);
    test_daemon b(rate, options);
    test_daemon* daemons[] = {&a, &b};

    // Both alive: the daemon not running the job takes the cancel; the runner stops at its next chunk.
    auto first = upload_ndjson(a, "users", user_rows(300, 0, "first"));
    REQUIRE(first.status == 202);
    std::string first_id = string_field(first.json().as_object(), "job_id");
    int runs = runner_of(a, b, first_id);
    test_daemon& runner = *daemons[runs];
    test_daemon& other = *daemons[1 - runs];
    wait_for_processed(other, first_id, 10);
    auto accepted = cancel(other, first_id);
    INFO(accepted.body);
    REQUIRE(accepted.status == 202);
    auto end = wait_for_job_end(other, first_id, 5000);
    CHECK(string_field(end, "status") == "failed");
    CHECK(string_field(end, "error") == "cancelled");
    CHECK(string_field(end, "cancelled_at") == string_field(accepted.json().as_object(), "cancelled_at"));
    std::int64_t processed = int_field(end, "processed_rows");
    CHECK(processed < 300);
    CHECK(query_number(url, "SELECT count(*) FROM users WHERE properties->>'tag' = 'first'") == processed);
    CHECK(logged(runner, "job.failed", first_id, true));
    std::this_thread::sleep_for(300ms);
    CHECK(stored_processed(url, first_id) == processed);

    // The runner dies after the job's last commit; the cancel comes meanwhile, while its lease still holds the job
    // (nobody else may run it). The runner's restart ends it at once, applying nothing more.
    auto second = upload_ndjson(other, "users", user_rows(300, 1000, "second"));
    REQUIRE(second.status == 202);
    std::string second_id = string_field(second.json().as_object(), "job_id");
    int runs_second = runner_of(a, b, second_id);
    test_daemon& second_runner = *daemons[runs_second];
    test_daemon& second_other = *daemons[1 - runs_second];
    wait_for_processed(second_other, second_id, 10);
    CHECK(second_runner.stop(SIGKILL) == 128 + SIGKILL);
    long long before = stored_processed(url, second_id);
    auto pending = cancel(second_other, second_id);
    INFO(pending.body);
    REQUIRE(pending.status == 202);
    CHECK(string_field(pending.json().as_object(), "status") == "running");
    CHECK_FALSE(string_field(pending.json().as_object(), "cancelled_at").empty());
    CHECK(cancel(second_other, second_id).status == 202); // again while it runs: the same answer

    second_runner.start();
    auto second_end = wait_for_job_end(second_other, second_id, 5000);
    CHECK(string_field(second_end, "status") == "failed");
    CHECK(string_field(second_end, "error") == "cancelled");
    CHECK(int_field(second_end, "processed_rows") == before);
    CHECK(query_number(url, "SELECT count(*) FROM users WHERE properties->>'tag' = 'second'") == before);
    CHECK(logged(second_runner, "job.failed", second_id, true));
    check_error(cancel(second_runner, second_id), 409, "job_finished");
}
