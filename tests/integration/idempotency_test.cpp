// Idempotency-Key on bulk uploads: a key is bound to its route and its upload. A true repeat gets the first
// job again (200, Idempotent-Replayed: true); any other use of the key is a 422; two uploads racing with one
// key make one job.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "tests/support/api_checks.hpp"
#include "tests/support/bulk_jobs.hpp"
#include "tests/support/test_daemon.hpp"

using namespace profiled::test;
using namespace std::chrono_literals;

namespace {

const std::vector<std::string> unlimited = {"--rows-per-minute", "0"};
const std::string key_header = "Idempotency-Key";

// The jobs of the daemon's project.
boost::json::array all_jobs(const test_daemon& d)
{
    auto r = d.call("GET", "/v1/background_jobs?limit=100");
    REQUIRE(r.status == 200);
    return r.json().at("jobs").as_array();
}

// The job_id of an answer that carries a job.
std::string job_id_of(const http_reply& r) { return string_field(r.json().as_object(), "job_id"); }

// Whether the answer is a replay of an earlier job.
bool replayed(const http_reply& r)
{
    auto h = r.headers.find("idempotent-replayed");
    return h != r.headers.end() && h->second == "true";
}

// No file of a refused or replayed upload stays in the spool: each file is the .ndjson of a job (until it ends).
void check_spool_holds_only_jobs(const test_daemon& d)
{
    std::vector<std::string> allowed;
    for (const auto& job : all_jobs(d))
        allowed.push_back(string_field(job.as_object(), "job_id") + ".ndjson");
    for (const auto& name : spool_files(d)) {
        CAPTURE(name);
        CHECK(std::find(allowed.begin(), allowed.end(), name) != allowed.end());
    }
}

// How many .part files the spool holds: one per upload whose body is being received.
std::size_t part_files(const test_daemon& d)
{
    std::size_t n = 0;
    for (const auto& name : spool_files(d))
        n += name.find(".part") != std::string::npos;
    return n;
}

// Whether the spool empties within a few seconds: a job's file is removed just after its end is committed.
bool spool_empties(const test_daemon& d)
{
    auto deadline = std::chrono::steady_clock::now() + 5s;
    while (!spool_files(d).empty() && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(10ms);
    return spool_files(d).empty();
}

// The header of a multipart users upload of body_size bytes with an Idempotency-Key, as sent on a raw socket.
std::string upload_head(const test_daemon& d, const std::string& key, std::size_t body_size)
{
    return "POST /v1/users/bulk_identify HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Token " + d.secret_key() +
           "\r\nContent-Type: multipart/form-data; boundary=" + test_boundary + "\r\nIdempotency-Key: " + key +
           "\r\nContent-Length: " + std::to_string(body_size) + "\r\n\r\n";
}

} // namespace

TEST_CASE("the same key, route and upload replay the first job with 200 and Idempotent-Replayed",
          "[idempotency][bulk][integration]")
{
    test_daemon d(unlimited);
    std::string rows = user_rows(3);
    auto first = upload_ndjson(d, "users", rows, "", {{key_header, "nightly-1"}});
    INFO(first.body);
    REQUIRE(first.status == 202);
    CHECK_FALSE(replayed(first));
    std::string job_id = job_id_of(first);

    SECTION("the same multipart upload again")
    {
        auto again = upload_ndjson(d, "users", rows, "", {{key_header, "nightly-1"}});
        INFO(again.body);
        CHECK(again.status == 200);
        CHECK(replayed(again));
        CHECK(job_id_of(again) == job_id);
        CHECK(all_jobs(d).size() == 1);
    }
    SECTION("the same file in a multipart body with another boundary, as curl -F sends a retry")
    {
        const std::string boundary = "another-boundary-91c2";
        header_list headers = multipart_headers(boundary);
        headers.emplace_back(key_header, "nightly-1");
        auto again = d.call("POST", "/v1/users/bulk_identify", multipart_body(rows, "rows.ndjson", "file", boundary),
                            headers);
        INFO(again.body);
        CHECK(again.status == 200);
        CHECK(replayed(again));
        CHECK(job_id_of(again) == job_id);
        CHECK(all_jobs(d).size() == 1);
    }
    SECTION("a JSON document repeated byte for byte")
    {
        std::string doc = R"({"users":[{"user_id":"doc1","metadata":{"a":1.5}}]})";
        auto doc_first = upload_json(d, "users", doc, "", {{key_header, "doc-1"}});
        REQUIRE(doc_first.status == 202);
        auto doc_again = upload_json(d, "users", doc, "", {{key_header, "doc-1"}});
        INFO(doc_again.body);
        CHECK(doc_again.status == 200);
        CHECK(replayed(doc_again));
        CHECK(job_id_of(doc_again) == job_id_of(doc_first));
        CHECK(all_jobs(d).size() == 2);
    }
    SECTION("a replay after the job ended shows it as it is now")
    {
        wait_for_job_end(d, job_id);
        auto again = upload_ndjson(d, "users", rows, "", {{key_header, "nightly-1"}});
        CHECK(again.status == 200);
        CHECK(replayed(again));
        CHECK(string_field(again.json().as_object(), "status") == "done");
        CHECK(all_jobs(d).size() == 1);
    }
    check_spool_holds_only_jobs(d);
    // A replay's own spool file went with it: once the jobs ended, the spool is empty.
    for (const auto& job : all_jobs(d))
        wait_for_job_end(d, string_field(job.as_object(), "job_id"));
    CHECK(spool_empties(d));
}

TEST_CASE("a key reused for another upload or on the other route is 422 idempotency_key_reused",
          "[idempotency][bulk][integration]")
{
    test_daemon d(unlimited);
    auto first = upload_ndjson(d, "users", user_rows(3), "", {{key_header, "batch-7"}});
    REQUIRE(first.status == 202);
    std::string job_id = job_id_of(first);

    SECTION("other rows")
    {
        auto r = upload_ndjson(d, "users", user_rows(3, 100), "", {{key_header, "batch-7"}});
        check_error(r, 422, "idempotency_key_reused", "Idempotency-Key");
        CHECK(r.error_message().find(job_id) != std::string::npos);
        CHECK_FALSE(replayed(r));
        wait_for_job_end(d, job_id);
        CHECK(get_user(d, "u100").empty());
        CHECK(all_jobs(d).size() == 1);
    }
    SECTION("the same rows with one more")
    {
        auto r = upload_ndjson(d, "users", user_rows(4), "", {{key_header, "batch-7"}});
        check_error(r, 422, "idempotency_key_reused", "Idempotency-Key");
        CHECK(all_jobs(d).size() == 1);
    }
    SECTION("another body, as a JSON document")
    {
        auto r = upload_json(d, "users", R"({"users":[{"user_id":"u0"}]})", "", {{key_header, "batch-7"}});
        check_error(r, 422, "idempotency_key_reused", "Idempotency-Key");
        CHECK(all_jobs(d).size() == 1);
    }
    SECTION("the companies route")
    {
        auto r = upload_ndjson(d, "companies", "{\"company_id\":\"c1\"}\n", "", {{key_header, "batch-7"}});
        check_error(r, 422, "idempotency_key_reused", "Idempotency-Key");
        CHECK(r.error_message().find("/v1/users/bulk_identify") != std::string::npos);
        wait_for_job_end(d, job_id);
        CHECK(d.call("GET", "/v1/companies/c1").status == 404);
        CHECK(all_jobs(d).size() == 1);
    }
    SECTION("a key first used on the companies route, then on the users route")
    {
        auto companies = upload_json(d, "companies", R"({"companies":[{"company_id":"c2"}]})", "",
                                     {{key_header, "batch-8"}});
        REQUIRE(companies.status == 202);
        // Refused from the headers alone: the body (not even a users document) is never looked at.
        auto r = upload_json(d, "users", R"({"companies":[{"company_id":"c2"}]})", "", {{key_header, "batch-8"}});
        check_error(r, 422, "idempotency_key_reused", "Idempotency-Key");
        CHECK(r.error_message().find("/v1/companies/bulk_identify") != std::string::npos);
        CHECK(all_jobs(d).size() == 2);
    }
    // The refusal made no job and left no file.
    check_spool_holds_only_jobs(d);
    for (const auto& job : all_jobs(d))
        wait_for_job_end(d, string_field(job.as_object(), "job_id"));
    CHECK(spool_empties(d));
}

// SQLite only: it looks at the spool's files in the data dir; with PostgreSQL the spool is in the database
// (tests/integration/database_spool_test.cpp and cluster_test.cpp cover it there).
TEST_CASE("two uploads racing with one key make exactly one job", "[idempotency][bulk][concurrency][sqlite_only][integration]")
{
    const bool same = GENERATE(true, false);
    CAPTURE(same);
    test_daemon d(unlimited);
    std::string rows_a = user_rows(200, 0, "a");
    std::string rows_b = same ? rows_a : user_rows(200, 0, "b");
    std::string body_a = multipart_body(rows_a), body_b = multipart_body(rows_b);

    // Both uploads are admitted and half sent before either finishes, so both pass the check made before the
    // body is read; only the job's insert can tell them apart.
    http_connection a(d.port()), b(d.port());
    a.send_raw(upload_head(d, "race-1", body_a.size()) + body_a.substr(0, body_a.size() / 2));
    b.send_raw(upload_head(d, "race-1", body_b.size()) + body_b.substr(0, body_b.size() / 2));
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (part_files(d) < 2 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(10ms);
    REQUIRE(part_files(d) == 2);

    http_reply reply_a, reply_b;
    std::thread ta([&] {
        a.send_raw(body_a.substr(body_a.size() / 2));
        reply_a = a.read_reply();
    });
    std::thread tb([&] {
        b.send_raw(body_b.substr(body_b.size() / 2));
        reply_b = b.read_reply();
    });
    ta.join();
    tb.join();
    INFO("a: " << reply_a.status << " " << reply_a.body);
    INFO("b: " << reply_b.status << " " << reply_b.body);

    auto jobs = all_jobs(d);
    REQUIRE(jobs.size() == 1);
    std::string job_id = string_field(jobs[0].as_object(), "job_id");
    const http_reply& winner = reply_a.status == 202 ? reply_a : reply_b;
    const http_reply& loser = reply_a.status == 202 ? reply_b : reply_a;
    REQUIRE(winner.status == 202);
    CHECK(job_id_of(winner) == job_id);
    CHECK_FALSE(replayed(winner));
    if (same) {
        CHECK(loser.status == 200);
        CHECK(replayed(loser));
        CHECK(job_id_of(loser) == job_id);
    } else {
        check_error(loser, 422, "idempotency_key_reused", "Idempotency-Key");
        CHECK(loser.error_message().find(job_id) != std::string::npos);
    }
    // The loser's spool file went with it before it was answered; the winner's goes when its job ends.
    check_spool_holds_only_jobs(d);
    auto end = wait_for_job_end(d, job_id);
    CHECK(string_field(end, "status") == "done");
    CHECK(int_field(end, "processed_rows") == 200);
    CHECK(spool_empties(d));
}

TEST_CASE("a body streamed in many small pieces has the same digest as one sent at once",
          "[idempotency][bulk][integration]")
{
    test_daemon d(unlimited);
    std::string rows = user_rows(50);
    auto first = upload_ndjson(d, "users", rows, "", {{key_header, "pieces"}});
    REQUIRE(first.status == 202);

    // The same body in chunks of 7 bytes, each written on its own, so the digest is fed across block edges.
    std::string body = multipart_body(rows);
    http_connection c(d.port());
    c.send_raw("POST /v1/users/bulk_identify HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Token " + d.secret_key() +
               "\r\nContent-Type: multipart/form-data; boundary=" + test_boundary +
               "\r\nIdempotency-Key: pieces\r\nTransfer-Encoding: chunked\r\n\r\n");
    char size[16];
    for (std::size_t at = 0; at < body.size(); at += 7) {
        std::string piece = body.substr(at, 7);
        std::snprintf(size, sizeof size, "%zx", piece.size());
        c.send_raw(std::string(size) + "\r\n" + piece + "\r\n");
        if (at % 700 == 0)
            std::this_thread::sleep_for(1ms);
    }
    c.send_raw("0\r\n\r\n");
    auto again = c.read_reply();
    INFO(again.body);
    CHECK(again.status == 200);
    CHECK(replayed(again));
    CHECK(job_id_of(again) == job_id_of(first));
}

TEST_CASE("a retry is answered even when the project's queue is full", "[idempotency][bulk][integration]")
{
    // One row a minute keeps the jobs queued or running for the whole test; two of them fill the queue.
    test_daemon d({"--max-queued-jobs", "2", "--rows-per-minute", "1", "--rows-burst", "1"});
    auto first = upload_ndjson(d, "users", user_rows(5), "", {{key_header, "full-1"}});
    REQUIRE(first.status == 202);
    REQUIRE(upload_ndjson(d, "users", user_rows(5, 50)).status == 202);
    REQUIRE(upload_ndjson(d, "users", user_rows(5, 100)).status == 429);

    auto again = upload_ndjson(d, "users", user_rows(5), "", {{key_header, "full-1"}});
    INFO(again.body);
    CHECK(again.status == 200);
    CHECK(replayed(again));
    CHECK(job_id_of(again) == job_id_of(first));
    check_error(upload_ndjson(d, "users", user_rows(6), "", {{key_header, "full-1"}}), 422, "idempotency_key_reused",
                "Idempotency-Key");
    CHECK(all_jobs(d).size() == 2);
    check_spool_holds_only_jobs(d);
}
