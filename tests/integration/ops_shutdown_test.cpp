// SIGTERM as systemd sends it: stop accepting, let in-flight requests finish within --shutdown-grace,
// abandon what cannot finish without leaving anything behind, exit 0; jobs resume after a restart.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <string>
#include <thread>

#include "tests/support/api_checks.hpp"
#include "tests/support/bulk_jobs.hpp"
#include "tests/support/test_daemon.hpp"

using namespace profiled::test;
using namespace std::chrono_literals;

namespace {

// Sends the headers and the first half of a multipart upload of rows; the rest is returned for later.
std::string send_half_upload(http_connection& c, const test_daemon& d, const std::string& rows)
{
    std::string body = multipart_body(rows);
    c.send_raw("POST /v1/users/bulk_identify HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Token " + d.secret_key() +
               "\r\nContent-Type: multipart/form-data; boundary=" + test_boundary +
               "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body.substr(0, body.size() / 2));
    return body.substr(body.size() / 2);
}

// Waits until the daemon has started spooling an upload (a .part file exists).
void wait_for_part_file(const test_daemon& d)
{
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < deadline) {
        for (const auto& name : spool_files(d))
            if (name.ends_with(".part"))
                return;
        std::this_thread::sleep_for(10ms);
    }
    FAIL("no .part file appeared in " << d.data_dir() << "/spool");
}

// Polls the job until it has processed at least one row; its processed_rows then.
std::int64_t wait_until_started(const test_daemon& d, const std::string& job_id)
{
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < deadline) {
        auto job = fetch_job(d, job_id);
        if (!job.empty() && int_field(job, "processed_rows") > 0)
            return int_field(job, "processed_rows");
        std::this_thread::sleep_for(10ms);
    }
    FAIL("job " << job_id << " did not start");
    return 0;
}

// The events logged, in order.
std::vector<std::string> events(const test_daemon& d)
{
    std::vector<std::string> out;
    for (const auto& line : d.log_lines())
        if (line.contains("event"))
            out.emplace_back(line.at("event").as_string());
    return out;
}

// 40 user rows; rows 8 and 30 (1-based lines 8 and 30) lack a user_id.
std::string rows_with_two_invalid()
{
    std::string out;
    for (int i = 1; i <= 40; ++i) {
        if (i == 8 || i == 30)
            out += "{\"metadata\":{\"n\":" + std::to_string(i) + "}}\n";
        else
            out += "{\"user_id\":\"t" + std::to_string(i) + "\",\"metadata\":{\"n\":" + std::to_string(i) + "}}\n";
    }
    return out;
}

} // namespace

// SQLite only: it looks at the spool's files in the data dir; with PostgreSQL the spool is in the database
// (tests/integration/database_spool_test.cpp and cluster_test.cpp cover it there).
TEST_CASE("SIGTERM with a job running and an upload stalled: exit 0, the half upload leaves nothing, the job "
          "resumes exact",
          "[ops][shutdown][sqlite_only]")
{
    // 20 rows/s after a burst of 5: the 40-row job is still running when SIGTERM comes.
    test_daemon d({"--rows-per-minute", "1200", "--rows-burst", "5", "--shutdown-grace", "1"});
    auto submitted = upload_ndjson(d, "users", rows_with_two_invalid());
    REQUIRE(submitted.status == 202);
    std::string job_id = string_field(submitted.json().as_object(), "job_id");
    std::int64_t before = wait_until_started(d, job_id);

    http_connection stalled(d.port());
    send_half_upload(stalled, d, user_rows(200, 9000));
    wait_for_part_file(d);

    REQUIRE(d.stop(SIGTERM) == 0);
    // Right at exit, before any start-up recovery: the half upload's .part file is gone, the job's spool stays.
    CHECK(spool_files(d) == std::vector<std::string>{job_id + ".ndjson"});
    auto logged = events(d);
    auto at = [&](const std::string& e) { return std::find(logged.begin(), logged.end(), e) - logged.begin(); };
    REQUIRE(at("server.stopping") < static_cast<long>(logged.size()));
    CHECK(at("server.stopping") < at("server.grace_expired"));
    CHECK(at("server.grace_expired") < at("server.stopped"));
    CHECK(at("server.stopped") < static_cast<long>(logged.size()));
    // The stalled client saw its connection closed, without a response.
    CHECK(stalled.read_reply(2000).status == 0);

    d.start();
    auto end = wait_for_job_end(d, job_id);
    CHECK(string_field(end, "status") == "done");
    CHECK(int_field(end, "processed_rows") == 40);
    CHECK(int_field(end, "failed_rows") == 2);
    CHECK(before < 40);
    auto errors = d.call("GET", "/v1/background_jobs/" + job_id + "/errors");
    REQUIRE(errors.status == 200);
    CHECK(errors.json().at("errors").as_array().size() == 2);
    CHECK(get_user(d, "t40").at("properties").at("n") == 40);
    // The abandoned upload made no job and applied no row.
    auto jobs = d.call("GET", "/v1/background_jobs");
    REQUIRE(jobs.status == 200);
    CHECK(jobs.json().at("jobs").as_array().size() == 1);
    CHECK(get_user(d, "u9000").empty());
    CHECK(spool_files(d).empty());
}

// SQLite only: it waits for the upload's .part file in the data dir; with PostgreSQL the spool is in the database.
TEST_CASE("SIGTERM during an upload: the request in flight completes within the grace period",
          "[ops][shutdown][sqlite_only]")
{
    test_daemon d({"--shutdown-grace", "10"});
    http_connection uploading(d.port());
    std::string rest = send_half_upload(uploading, d, user_rows(30, 100));
    wait_for_part_file(d);

    REQUIRE(::kill(d.pid(), SIGTERM) == 0);
    REQUIRE_FALSE(d.wait_for_event("server.stopping").empty());
    // New connections are refused now ...
    CHECK_THROWS(http_call(d.port(), "GET", "/healthz"));
    // ... but the upload already in flight is finished and answered.
    uploading.send_raw(rest);
    auto reply = uploading.read_reply(10000);
    INFO(reply.body);
    REQUIRE(reply.status == 202);
    std::string job_id = string_field(reply.json().as_object(), "job_id");
    REQUIRE_FALSE(d.wait_for_event("server.stopped").empty());
    CHECK(d.stop(SIGTERM) == 0);
    auto logged = events(d);
    CHECK(std::find(logged.begin(), logged.end(), "server.grace_expired") == logged.end());

    // The accepted job was durable and runs after the restart.
    d.start();
    auto end = wait_for_job_end(d, job_id);
    CHECK(string_field(end, "status") == "done");
    CHECK(int_field(end, "processed_rows") == 30);
    CHECK(get_user(d, "u129").at("properties").at("n") == 129);
}
