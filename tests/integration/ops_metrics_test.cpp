// GET /metrics after real traffic and a bulk job: every family the operator is promised, with the values the
// traffic must have produced, and no user, job or key ids in any label.
#include <catch2/catch.hpp>

#include <chrono>
#include <regex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "common/ops/build_info.hpp"
#include "tests/support/bulk_jobs.hpp"
#include "tests/support/test_daemon.hpp"

using namespace profiled::test;

namespace {

// The value of the sample whose series (name plus labels, as rendered) is exactly series; -1 when absent.
double sample(const std::string& scrape, const std::string& series)
{
    auto at = scrape.find("\n" + series + " ");
    if (at == std::string::npos)
        return -1;
    return std::stod(scrape.substr(at + series.size() + 2));
}

} // namespace

TEST_CASE("GET /metrics exposes every promised family with real values and no ids", "[ops][metrics]")
{
    test_daemon d({"--rows-per-minute", "0"});
    REQUIRE(d.identify(R"({"user_id":"metric-user-1","metadata":{"a":1}})").status == 202);
    REQUIRE(d.identify(R"({"user_id":"metric-user-2","metadata":{"a":2}})").status == 202);
    REQUIRE(d.call("GET", "/v1/users/metric-user-1").status == 200);
    REQUIRE(d.call("GET", "/v1/users/no-such-user").status == 404);
    std::string rows = user_rows(9) + "{\"metadata\":{}}\n"; // the last row lacks a user_id
    auto submitted = upload_ndjson(d, "users", rows);
    REQUIRE(submitted.status == 202);
    std::string job_id = string_field(submitted.json().as_object(), "job_id");
    REQUIRE(string_field(wait_for_job_end(d, job_id), "status") == "done");

    auto reply = http_call(d.port(), "GET", "/metrics");
    REQUIRE(reply.status == 200);
    CHECK(reply.headers["content-type"].rfind("text/plain; version=0.0.4", 0) == 0);
    const std::string scrape = "\n" + reply.body;

    const std::vector<std::pair<std::string, std::string>> families{
        {"profiled_http_requests_total", "counter"},
        {"profiled_http_request_duration_seconds", "histogram"},
        {"profiled_jobs", "gauge"},
        {"profiled_jobs_total", "counter"},
        {"profiled_job_duration_seconds", "histogram"},
        {"profiled_job_queue_wait_seconds", "histogram"},
        {"profiled_rows_total", "counter"},
        {"profiled_upload_bytes_total", "counter"},
        {"profiled_spool_bytes", "gauge"},
        {"profiled_ratelimit_throttled_total", "counter"},
        {"profiled_writer_batch_rows", "histogram"},
        {"profiled_writer_commit_duration_seconds", "histogram"},
        {"profiled_writer_sync_duration_seconds", "histogram"},
        {"profiled_last_job_done_timestamp_seconds", "gauge"},
        {"profiled_build_info", "gauge"},
        {"profiled_process_start_time_seconds", "gauge"},
        {"profiled_oldest_queued_job_age_seconds", "gauge"},
        {"profiled_job_rows_waiting", "gauge"},
        {"profiled_database_size_bytes", "gauge"},
        {"profiled_data_dir_free_bytes", "gauge"},
        {"profiled_data_dir_size_bytes", "gauge"},
        {"process_cpu_seconds_total", "counter"},
        {"process_resident_memory_bytes", "gauge"},
        {"process_virtual_memory_bytes", "gauge"},
        {"process_open_fds", "gauge"},
        {"process_max_fds", "gauge"},
        {"process_start_time_seconds", "gauge"},
    };
    for (const auto& [name, type] : families) {
        CAPTURE(name);
        CHECK(scrape.find("\n# TYPE " + name + " " + type + "\n") != std::string::npos);
        CHECK(scrape.find("\n# HELP " + name + " ") != std::string::npos);
    }

    // The values the traffic above must have produced.
    CHECK(sample(scrape, R"(profiled_http_requests_total{route="/v1/identify",method="POST",code="202"})") == 2);
    CHECK(sample(scrape, R"(profiled_http_requests_total{route="/v1/users/{user_id}",method="GET",code="404"})") ==
          1);
    CHECK(sample(scrape, R"(profiled_http_request_duration_seconds_count{route="/v1/identify"})") == 2);
    CHECK(sample(scrape, R"(profiled_jobs{status="done"})") == 1);
    CHECK(sample(scrape, R"(profiled_jobs{status="queued"})") == 0);
    CHECK(sample(scrape, R"(profiled_jobs_total{status="done"})") == 1);
    CHECK(sample(scrape, R"(profiled_rows_total{type="users",result="applied"})") == 9);
    CHECK(sample(scrape, R"(profiled_rows_total{type="users",result="failed"})") == 1);
    CHECK(sample(scrape, R"(profiled_job_duration_seconds_count{type="users",status="done"})") == 1);
    // The other type and status are there from the start, at 0.
    CHECK(sample(scrape, R"(profiled_job_duration_seconds_count{type="companies",status="failed"})") == 0);
    CHECK(sample(scrape, R"(profiled_job_duration_seconds_bucket{type="users",status="failed",le="+Inf"})") == 0);
    CHECK(sample(scrape, "profiled_job_queue_wait_seconds_count") == 1);
    // The bytes of the file as the client sent it.
    CHECK(sample(scrape, "profiled_upload_bytes_total") == static_cast<double>(rows.size()));
    CHECK(sample(scrape, "profiled_spool_bytes") == 0); // the job ended, its spool file is gone
    CHECK(sample(scrape, "profiled_ratelimit_throttled_total") == 0);
    CHECK(sample(scrape, "profiled_writer_batch_rows_count") >= 3);
    CHECK(sample(scrape, "profiled_writer_commit_duration_seconds_count") >= 3);
    CHECK(sample(scrape, "profiled_writer_sync_duration_seconds_count") >= 1);
    CHECK(sample(scrape, R"(profiled_build_info{version=")" PROFILED_VERSION R"(",revision=")" +
                             std::string(profiled::build_revision()) + R"("})") == 1);
    double now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    CHECK(sample(scrape, "profiled_process_start_time_seconds") > now - 120);
    CHECK(sample(scrape, "profiled_process_start_time_seconds") <= now);
    CHECK(sample(scrape, "profiled_last_job_done_timestamp_seconds") > now - 120);

    // No user ids, job ids or keys anywhere, and every label value comes from a small fixed set.
    CHECK(scrape.find("metric-user") == std::string::npos);
    CHECK(scrape.find("no-such-user") == std::string::npos);
    CHECK(scrape.find(job_id) == std::string::npos);
    CHECK(scrape.find(d.secret_key().substr(0, 12)) == std::string::npos);
    static const std::regex label(R"re((\w+)="([^"]*)")re");
    for (std::sregex_iterator it(scrape.begin(), scrape.end(), label), end; it != end; ++it) {
        std::string name = (*it)[1], value = (*it)[2];
        CAPTURE(name, value);
        CHECK((name == "route" || name == "method" || name == "code" || name == "status" || name == "type" ||
               name == "result" || name == "outcome" || name == "le" || name == "version" || name == "revision"));
    }
}

// SQLite only: it looks at the spool's files in the data dir; with PostgreSQL the spool is in the database
// (tests/integration/database_spool_test.cpp and cluster_test.cpp cover it there).
TEST_CASE("GET /metrics needs no key and shows the spool in use while a job waits", "[ops][metrics][sqlite_only]")
{
    test_daemon d({"--rows-per-minute", "1", "--rows-burst", "1"});
    auto submitted = upload_ndjson(d, "users", user_rows(50));
    REQUIRE(submitted.status == 202);
    auto scrape = "\n" + http_call(d.port(), "GET", "/metrics").body;
    CHECK(sample(scrape, "profiled_spool_bytes") > 0);
    CHECK(sample(scrape, R"(profiled_jobs{status="queued"})") + sample(scrape, R"(profiled_jobs{status="running"})") ==
          1);
    CHECK(sample(scrape, "profiled_upload_bytes_total") > 0);
}

TEST_CASE("GET /metrics shows the backlog, the database's size, the disk and the process", "[ops][metrics]")
{
    // One row a minute: the first job holds its project, the second waits queued behind it.
    test_daemon d({"--rows-per-minute", "1", "--rows-burst", "1"});
    auto idle = "\n" + http_call(d.port(), "GET", "/metrics").body;
    CHECK(sample(idle, "profiled_oldest_queued_job_age_seconds") == 0);
    CHECK(sample(idle, R"(profiled_job_rows_waiting{status="queued"})") == 0);
    CHECK(sample(idle, R"(profiled_job_rows_waiting{status="running"})") == 0);

    auto first = upload_ndjson(d, "users", user_rows(20));
    REQUIRE(first.status == 202);
    REQUIRE(wait_for_processed(d, string_field(first.json().as_object(), "job_id"), 1) >= 1);
    auto second = upload_ndjson(d, "users", user_rows(7, 100));
    REQUIRE(second.status == 202);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));

    auto scrape = "\n" + http_call(d.port(), "GET", "/metrics").body;
    CHECK(sample(scrape, R"(profiled_job_rows_waiting{status="queued"})") == 7);
    double running = sample(scrape, R"(profiled_job_rows_waiting{status="running"})");
    CHECK(running >= 1);
    CHECK(running <= 19);
    double age = sample(scrape, "profiled_oldest_queued_job_age_seconds");
    CHECK(age >= 0.25);
    CHECK(age < 60);

    CHECK(sample(scrape, "profiled_database_size_bytes") > 4096);
    double free_bytes = sample(scrape, "profiled_data_dir_free_bytes");
    CHECK(free_bytes > 0);
    CHECK(sample(scrape, "profiled_data_dir_size_bytes") >= free_bytes);

    CHECK(sample(scrape, "process_resident_memory_bytes") > 1e6);
    CHECK(sample(scrape, "process_virtual_memory_bytes") >= sample(scrape, "process_resident_memory_bytes"));
    CHECK(sample(scrape, "process_open_fds") >= 4); // stdin/out/err, the listener, the database
    CHECK(sample(scrape, "process_max_fds") >= sample(scrape, "process_open_fds"));
    CHECK(sample(scrape, "process_cpu_seconds_total") >= 0);
    double now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    double started = sample(scrape, "process_start_time_seconds");
    CHECK(started > now - 120);
    CHECK(started <= now + 1);
}

TEST_CASE("GET /metrics counts made-up methods under one label, however many a client invents", "[ops][metrics]")
{
    test_daemon d;
    for (const char* method : {"FROBNICATE", "XYZZY", "MADEUP1"}) {
        auto reply = http_call(d.port(), method, "/healthz");
        CHECK(reply.status == 405);
    }
    CHECK(http_call(d.port(), "BREW", "/v1/no-such-route").status == 404);
    CHECK(http_call(d.port(), "GET", "/healthz").status == 200);
    auto reply = http_call(d.port(), "GET", "/metrics");
    REQUIRE(reply.status == 200);
    const std::string scrape = "\n" + reply.body;
    for (const char* method : {"FROBNICATE", "XYZZY", "MADEUP1", "BREW"})
        CHECK(scrape.find(method) == std::string::npos);
    CHECK(sample(scrape, R"(profiled_http_requests_total{route="unmatched",method="other",code="405"})") == 3);
    CHECK(sample(scrape, R"(profiled_http_requests_total{route="unmatched",method="other",code="404"})") == 1);
    // A method HTTP defines keeps its name.
    CHECK(sample(scrape, R"(profiled_http_requests_total{route="/healthz",method="GET",code="200"})") >= 1);
}
