// Bulk jobs across restarts: SIGTERM and kill -9 in the middle of a job, lost and orphaned spool files.
#include <algorithm>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include <catch2/catch.hpp>

#include "tests/support/api_checks.hpp"
#include "tests/support/bulk_jobs.hpp"
#include "tests/support/test_daemon.hpp"

using namespace profiled::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

// 20 rows a second after a burst of 10: slow enough to stop the daemon in the middle of a job.
const std::vector<std::string> slow_rate = {"--rows-per-minute", "1200", "--rows-burst", "10"};

// A users file of `unique` rows u0..u{unique-1} (tag "first", n = i), then u0..u{repeats-1} again
// (tag "second", n = 1000 + i), with the rows at the given 0-based positions of the first pass replaced by
// invalid ones (no user_id), and one invalid row (nested metadata) at the very end.
std::string file_with_repeats(int unique, int repeats, const std::vector<int>& invalid_at)
{
    std::string out;
    for (int i = 0; i < unique; ++i) {
        if (std::find(invalid_at.begin(), invalid_at.end(), i) != invalid_at.end())
            out += "{\"metadata\":{\"n\":" + std::to_string(i) + "}}\n";
        else
            out += "{\"user_id\":\"u" + std::to_string(i) + "\",\"metadata\":{\"n\":" + std::to_string(i) +
                   ",\"tag\":\"first\"}}\n";
    }
    for (int i = 0; i < repeats; ++i)
        out += "{\"user_id\":\"u" + std::to_string(i) + "\",\"metadata\":{\"n\":" + std::to_string(1000 + i) +
               ",\"tag\":\"second\"}}\n";
    out += "{\"user_id\":\"bad\",\"metadata\":{\"nested\":{\"x\":1}}}\n";
    return out;
}

// Checks every user of file_with_repeats holds the values of its last row, and the invalid rows left no user.
void check_final_users(const test_daemon& d, int unique, int repeats, const std::vector<int>& invalid_at)
{
    for (int i = 0; i < unique; ++i) {
        CAPTURE(i);
        auto u = get_user(d, "u" + std::to_string(i));
        bool invalid = std::find(invalid_at.begin(), invalid_at.end(), i) != invalid_at.end();
        if (i < repeats) {
            REQUIRE_FALSE(u.empty());
            CHECK(u.at("properties").at("tag") == "second");
            CHECK(u.at("properties").at("n") == 1000 + i);
        } else if (invalid) {
            CHECK(u.empty());
        } else {
            REQUIRE_FALSE(u.empty());
            CHECK(u.at("properties").at("tag") == "first");
            CHECK(u.at("properties").at("n") == i);
        }
    }
    CHECK(get_user(d, "bad").empty());
}

// Uploads the file, requires a 202, returns the job id.
std::string submit(const test_daemon& d, const std::string& ndjson)
{
    auto r = upload_ndjson(d, "users", ndjson);
    INFO(r.body);
    REQUIRE(r.status == 202);
    return string_field(r.json().as_object(), "job_id");
}

// Polls until the job has processed at least `rows` rows (and not all of them); its processed_rows then.
std::int64_t wait_until_processed(const test_daemon& d, const std::string& job_id, std::int64_t rows)
{
    auto deadline = std::chrono::steady_clock::now() + 30s;
    while (std::chrono::steady_clock::now() < deadline) {
        auto job = fetch_job(d, job_id);
        auto processed = int_field(job, "processed_rows");
        if (processed >= rows)
            return processed;
        std::this_thread::sleep_for(10ms);
    }
    FAIL("job " << job_id << " did not reach " << rows << " rows");
    return 0;
}

// The row lines of the job's errors (first page of up to 100).
std::vector<std::int64_t> error_lines(const test_daemon& d, const std::string& job_id)
{
    auto r = d.call("GET", "/v1/background_jobs/" + job_id + "/errors?limit=100");
    REQUIRE(r.status == 200);
    std::vector<std::int64_t> lines;
    auto body = r.json();
    for (const auto& e : body.at("errors").as_array())
        lines.push_back(e.at("line").to_number<std::int64_t>());
    return lines;
}

} // namespace

// SQLite only: it looks at the spool's files in the data dir; with PostgreSQL the spool is in the database
// (tests/integration/database_spool_test.cpp and cluster_test.cpp cover it there).
TEST_CASE("SIGTERM in the middle of a job: after a restart the job resumes and ends exact",
          "[bulk][recovery][sqlite_only][integration]")
{
    test_daemon d(slow_rate);
    const std::vector<int> invalid_at{5, 25};
    std::string job_id = submit(d, file_with_repeats(50, 10, invalid_at)); // 61 rows, 3 invalid
    std::int64_t before = wait_until_processed(d, job_id, 15);
    REQUIRE(before < 61);
    CHECK(d.stop(SIGTERM) == 0);
    // Stopped cleanly in the middle: the job is unfinished and its spool file kept.
    CHECK(spool_files(d) == std::vector<std::string>{job_id + ".ndjson"});

    d.start();
    auto resumed = fetch_job(d, job_id);
    CHECK(int_field(resumed, "processed_rows") >= before);
    auto end = wait_for_job_end(d, job_id);
    CHECK(string_field(end, "status") == "done");
    CHECK(int_field(end, "total_rows") == 61);
    CHECK(int_field(end, "processed_rows") == 61);
    CHECK(int_field(end, "failed_rows") == 3);
    CHECK(error_lines(d, job_id) == std::vector<std::int64_t>{6, 26, 61});
    check_final_users(d, 50, 10, invalid_at);
    CHECK(spool_files(d).empty());

    bool resumed_logged = false;
    for (const auto& line : d.log_lines())
        if (line.contains("event") && line.at("event") == "jobs.recovered" && line.at("resumed") == 1)
            resumed_logged = true;
    CHECK(resumed_logged);
}

// SQLite only: it looks at the spool's files in the data dir; with PostgreSQL the spool is in the database
// (tests/integration/database_spool_test.cpp and cluster_test.cpp cover it there).
TEST_CASE("kill -9 during a job and during an upload: after a restart the job ends done with exact counts",
          "[bulk][recovery][crash][sqlite_only][integration]")
{
    test_daemon d(slow_rate);
    const std::vector<int> invalid_at{3, 40, 70};
    std::string job_id = submit(d, file_with_repeats(80, 20, invalid_at)); // 101 rows, 4 invalid

    // First crash: mid-job.
    wait_until_processed(d, job_id, 20);
    CHECK(d.stop(SIGKILL) == 128 + SIGKILL);
    d.start();

    // Second crash: mid-job again, with another upload half received.
    wait_until_processed(d, job_id, 50);
    http_connection half(d.port());
    std::string body = multipart_body(user_rows(50, 500));
    half.send_raw("POST /v1/users/bulk_identify HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Token " +
                  d.secret_key() + "\r\nContent-Type: multipart/form-data; boundary=" + test_boundary +
                  "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body.substr(0, body.size() / 2));
    auto deadline = std::chrono::steady_clock::now() + 10s;
    bool part_seen = false;
    while (!part_seen && std::chrono::steady_clock::now() < deadline) {
        for (const auto& name : spool_files(d))
            part_seen = part_seen || name.ends_with(".part");
        std::this_thread::sleep_for(10ms);
    }
    REQUIRE(part_seen);
    CHECK(d.stop(SIGKILL) == 128 + SIGKILL);
    d.start();

    auto end = wait_for_job_end(d, job_id);
    CHECK(string_field(end, "status") == "done");
    CHECK(int_field(end, "total_rows") == 101);
    CHECK(int_field(end, "processed_rows") == 101);
    CHECK(int_field(end, "failed_rows") == 4);
    CHECK(error_lines(d, job_id) == std::vector<std::int64_t>{4, 41, 71, 101});
    check_final_users(d, 80, 20, invalid_at);
    // The half-received upload is gone, left no job, and none of its rows were applied.
    CHECK(spool_files(d).empty());
    CHECK(get_user(d, "u500").empty());
    auto jobs = d.call("GET", "/v1/background_jobs");
    REQUIRE(jobs.status == 200);
    CHECK(jobs.json().at("jobs").as_array().size() == 1);
}

// SQLite only: it looks at the spool's files in the data dir; with PostgreSQL the spool is in the database
// (tests/integration/database_spool_test.cpp and cluster_test.cpp cover it there).
TEST_CASE("start-up removes stray spool files and fails a job whose spool file is lost",
          "[bulk][recovery][sqlite_only][integration]")
{
    test_daemon d(slow_rate);
    std::string job_id = submit(d, user_rows(60));
    wait_until_processed(d, job_id, 5);
    CHECK(d.stop(SIGTERM) == 0);

    fs::path spool = fs::path(d.data_dir()) / "spool";
    fs::remove(spool / (job_id + ".ndjson"));
    std::ofstream(spool / "3f0c2d8e-0000-4000-8000-000000000000.part") << "{\"user_id\":\"half\"}\n";
    std::ofstream(spool / "3f0c2d8e-0000-4000-8000-000000000001.ndjson") << "{\"user_id\":\"orphan\"}\n";
    d.start();

    auto end = wait_for_job_end(d, job_id);
    CHECK(string_field(end, "status") == "failed");
    CHECK(string_field(end, "error").find("spool") != std::string::npos);
    CHECK(spool_files(d).empty());
    CHECK(get_user(d, "orphan").empty());
    CHECK(get_user(d, "half").empty());
}
