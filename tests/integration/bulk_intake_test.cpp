// Bulk intake: both upload formats, the 202 job object, every limit and malformed upload, idempotency, keys
// revoked mid-upload, numbers that do not fit.
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include <catch2/catch.hpp>

#include "tests/support/api_checks.hpp"
#include "tests/support/bulk_jobs.hpp"
#include "tests/support/test_daemon.hpp"

using namespace profiled::test;

namespace {

// The unlimited row rate keeps these tests fast; rates are tested with the runner.
const std::vector<std::string> unlimited = {"--rows-per-minute", "0"};

// True when text looks like an RFC 3339 UTC time, 2025-02-02T12:34:56Z (optionally with fractions).
bool is_rfc3339_utc(const std::string& text)
{
    return text.size() >= 20 && text[4] == '-' && text[7] == '-' && text[10] == 'T' && text[13] == ':' &&
           text[16] == ':' && text.back() == 'Z';
}

// One NDJSON user row (with its newline) padded to exactly `bytes` bytes.
std::string padded_row(std::size_t bytes)
{
    std::string head = R"({"user_id":"padded","metadata":{"pad":")", tail = "\"}}\n";
    return head + std::string(bytes - head.size() - tail.size(), 'x') + tail;
}

// How many jobs the daemon's project has.
std::size_t job_count(const test_daemon& d)
{
    auto r = d.call("GET", "/v1/background_jobs?limit=100");
    REQUIRE(r.status == 200);
    return r.json().at("jobs").as_array().size();
}

// A refused upload leaves nothing behind: no job and no spool file (not even a .part).
void check_nothing_left(const test_daemon& d)
{
    CHECK(job_count(d) == 0);
    CHECK(spool_files(d).empty());
}

// Checks a 202 answer's job object and returns it.
boost::json::object check_accepted(const http_reply& r, const std::string& type, std::int64_t rows)
{
    INFO(r.body);
    REQUIRE(r.status == 202);
    auto job = r.json().as_object();
    CHECK_FALSE(string_field(job, "job_id").empty());
    CHECK(string_field(job, "status") == "queued");
    CHECK(is_rfc3339_utc(string_field(job, "submitted_at")));
    CHECK(string_field(job, "type") == type);
    REQUIRE(job.contains("filename"));
    CHECK(int_field(job, "file_size") > 0);
    CHECK(int_field(job, "total_rows") == rows);
    return job;
}

} // namespace

TEST_CASE("a JSON users document is accepted as a job and every row is applied", "[bulk][intake][integration]")
{
    test_daemon d(unlimited);
    // The seed document's example, shortened.
    std::string body = R"({"users":[
        {"user_id":"user_001","company_id":"comp001","metadata":{"tickets_created":"15","csat":4.8}},
        {"user_id":"user_002","company_id":"comp002","metadata":{"tickets_created":"8","vip":true,"note":null}}
    ]})";
    auto job = check_accepted(upload_json(d, "users", body), "users", 2);
    CHECK(job.at("filename").is_null());
    CHECK(int_field(job, "file_size") == static_cast<std::int64_t>(body.size()));

    auto end = wait_for_job_end(d, string_field(job, "job_id"));
    CHECK(string_field(end, "status") == "done");
    CHECK(int_field(end, "processed_rows") == 2);
    CHECK(int_field(end, "failed_rows") == 0);
    CHECK(end.at("error").is_null());
    CHECK(is_rfc3339_utc(string_field(end, "started_at")));
    CHECK(is_rfc3339_utc(string_field(end, "finished_at")));

    auto u1 = get_user(d, "user_001");
    REQUIRE_FALSE(u1.empty());
    CHECK(u1.at("company_id") == "comp001");
    CHECK(u1.at("properties").at("tickets_created") == "15");
    CHECK(u1.at("properties").at("csat") == 4.8);
    auto u2 = get_user(d, "user_002");
    REQUIRE_FALSE(u2.empty());
    CHECK(u2.at("properties").at("vip") == true);
    CHECK(u2.at("properties").at("note").is_null());
    // The spool file goes when the job ends.
    CHECK(spool_files(d).empty());
}

TEST_CASE("a multipart NDJSON file of users: blank lines ignored, a last line without newline counts",
          "[bulk][intake][integration]")
{
    test_daemon d(unlimited);
    std::string file = "{\"user_id\":\"n1\",\"metadata\":{\"plan\":\"free\"}}\n"
                       "\n"
                       "{\"user_id\":\"n2\",\"metadata\":{\"plan\":\"pro\"}}\r\n"
                       "   \r\n"
                       "{\"user_id\":\"n3\",\"metadata\":{\"plan\":\"team\"}}";
    auto job = check_accepted(upload_ndjson(d, "users", file), "users", 3);
    CHECK(string_field(job, "filename") == "rows.ndjson");
    CHECK(int_field(job, "file_size") == static_cast<std::int64_t>(file.size()));

    auto end = wait_for_job_end(d, string_field(job, "job_id"));
    CHECK(string_field(end, "status") == "done");
    CHECK(int_field(end, "processed_rows") == 3);
    CHECK(int_field(end, "failed_rows") == 0);
    CHECK(get_user(d, "n1").at("properties").at("plan") == "free");
    CHECK(get_user(d, "n2").at("properties").at("plan") == "pro");
    CHECK(get_user(d, "n3").at("properties").at("plan") == "team");
}

TEST_CASE("companies are accepted as a JSON document and as multipart NDJSON", "[bulk][intake][integration]")
{
    test_daemon d(unlimited);
    SECTION("JSON document")
    {
        auto job = check_accepted(
            upload_json(d, "companies",
                        R"({"companies":[{"company_id":"c1","metadata":{"plan":"pro","seats":12}},{"company_id":"c2"}]})"),
            "companies", 2);
        auto end = wait_for_job_end(d, string_field(job, "job_id"));
        CHECK(string_field(end, "status") == "done");
        CHECK(int_field(end, "processed_rows") == 2);
        auto c1 = d.call("GET", "/v1/companies/c1");
        REQUIRE(c1.status == 200);
        CHECK(c1.json().at("properties").at("plan") == "pro");
        CHECK(c1.json().at("properties").at("seats") == 12);
        CHECK(d.call("GET", "/v1/companies/c2").status == 200);
    }
    SECTION("multipart NDJSON")
    {
        std::string file = "{\"company_id\":\"c3\",\"metadata\":{\"tier\":1}}\n\n{\"company_id\":\"c4\"}";
        auto job = check_accepted(upload_ndjson(d, "companies", file), "companies", 2);
        auto end = wait_for_job_end(d, string_field(job, "job_id"));
        CHECK(string_field(end, "status") == "done");
        CHECK(int_field(end, "processed_rows") == 2);
        auto c3 = d.call("GET", "/v1/companies/c3");
        REQUIRE(c3.status == 200);
        CHECK(c3.json().at("properties").at("tier") == 1);
        CHECK(d.call("GET", "/v1/companies/c4").status == 200);
    }
}

TEST_CASE("an upload over --max-upload-bytes is 413 naming the limit and leaves nothing behind",
          "[bulk][intake][limits][integration]")
{
    test_daemon d({"--rows-per-minute", "0", "--max-upload-bytes", "2000"});
    std::string big = user_rows(60); // about 2,700 bytes
    REQUIRE(big.size() > 2000);
    SECTION("multipart NDJSON")
    {
        auto r = upload_ndjson(d, "users", big);
        check_error(r, 413, "upload_too_large");
        CHECK(r.error_message().find("--max-upload-bytes") != std::string::npos);
        check_nothing_left(d);
    }
    SECTION("JSON document")
    {
        std::string doc = "{\"users\":[";
        for (int i = 0; i < 60; ++i)
            doc += (i ? "," : "") + std::string("{\"user_id\":\"u") + std::to_string(i) + "\",\"metadata\":{\"n\":1}}";
        doc += "]}";
        auto r = upload_json(d, "users", doc);
        check_error(r, 413, "upload_too_large");
        CHECK(r.error_message().find("--max-upload-bytes") != std::string::npos);
        check_nothing_left(d);
    }
    SECTION("the limit is the file's size: exactly at it is accepted, one byte more is not")
    {
        // The multipart framing around the file does not count.
        check_error(upload_ndjson(d, "users", padded_row(2001)), 413, "upload_too_large");
        check_nothing_left(d);
        auto at_limit = check_accepted(upload_ndjson(d, "users", padded_row(2000)), "users", 1);
        CHECK(int_field(at_limit, "file_size") == 2000);
        // Whitespace in a JSON document counts: the document is the file.
        std::string doc = R"({"users":[{"user_id":"json"}]})";
        check_error(upload_json(d, "users", doc + std::string(2001 - doc.size(), ' ')), 413, "upload_too_large");
        check_accepted(upload_json(d, "users", doc + std::string(2000 - doc.size(), ' ')), "users", 1);
    }
}

TEST_CASE("an upload over --max-job-rows is 413 naming the limit and leaves nothing behind",
          "[bulk][intake][limits][integration]")
{
    test_daemon d({"--rows-per-minute", "0", "--max-job-rows", "5"});
    SECTION("multipart NDJSON")
    {
        auto r = upload_ndjson(d, "users", user_rows(6));
        check_error(r, 413, "too_many_rows");
        CHECK(r.error_message().find("--max-job-rows") != std::string::npos);
        check_nothing_left(d);
        check_accepted(upload_ndjson(d, "users", user_rows(5)), "users", 5);
    }
    SECTION("JSON document")
    {
        auto r = upload_json(d, "companies",
                             R"({"companies":[{"company_id":"1"},{"company_id":"2"},{"company_id":"3"},)"
                             R"({"company_id":"4"},{"company_id":"5"},{"company_id":"6"}]})");
        check_error(r, 413, "too_many_rows");
        CHECK(r.error_message().find("--max-job-rows") != std::string::npos);
        check_nothing_left(d);
    }
}

TEST_CASE("malformed uploads are refused with a 4xx and leave no job and no spool file",
          "[bulk][intake][integration]")
{
    test_daemon d(unlimited);
    // Each row: the status, the error_code ("" when only the status is settled), Content-Type and body.
    std::string row = "{\"user_id\":\"x\"}\n";
    auto [status, code, content_type, body] = GENERATE_COPY(table<int, std::string, std::string, std::string>({
        // Empty uploads.
        {400, "", "application/json", ""},
        {400, "empty_upload", "application/json", R"({"users":[]})"},
        {400, "empty_upload", "multipart/form-data; boundary=" + test_boundary, multipart_body("")},
        {400, "empty_upload", "multipart/form-data; boundary=" + test_boundary, multipart_body("\n\n  \n")},
        // A JSON body without the array.
        {400, "missing_array", "application/json", R"({"people":[{"user_id":"x"}]})"},
        {400, "", "application/json", R"({"users":{"user_id":"x"}})"},
        {400, "", "application/json", R"([{"user_id":"x"}])"},
        {400, "", "application/json", R"({"users":[{"user_id":"x"})"},
        // Wrong content type.
        {415, "unsupported_media_type", "text/csv", "user_id\nx\n"},
        // Multipart without a file part, with the wrong boundary, truncated, without a boundary.
        {400, "missing_file_part", "multipart/form-data; boundary=" + test_boundary,
         multipart_body(row, "rows.ndjson", "data")},
        {400, "", "multipart/form-data; boundary=other-boundary", multipart_body(row)},
        {400, "", "multipart/form-data; boundary=" + test_boundary,
         multipart_body(row).substr(0, multipart_body(row).size() - 12)},
        {400, "", "multipart/form-data", multipart_body(row)},
    }));
    CAPTURE(content_type, body);
    auto r = d.call("POST", "/v1/users/bulk_identify", body, {{"Content-Type", content_type}});
    INFO(r.body);
    CHECK(r.status == status);
    if (!code.empty())
        check_error(r, status, code);
    else
        CHECK_FALSE(r.error_code().empty());
    check_nothing_left(d);
}

TEST_CASE("a nested metadata value fails that row only, not the upload", "[bulk][intake][integration]")
{
    test_daemon d(unlimited);
    std::string file = "{\"user_id\":\"ok1\",\"metadata\":{\"a\":1}}\n"
                       "{\"user_id\":\"nested\",\"metadata\":{\"address\":{\"city\":\"Oslo\"}}}\n"
                       "{\"user_id\":\"listed\",\"metadata\":{\"tags\":[\"a\",\"b\"]}}\n"
                       "{\"user_id\":\"ok2\",\"metadata\":{\"a\":2}}\n";
    auto job = check_accepted(upload_ndjson(d, "users", file), "users", 4);
    std::string job_id = string_field(job, "job_id");
    auto end = wait_for_job_end(d, job_id);
    CHECK(string_field(end, "status") == "done");
    CHECK(int_field(end, "processed_rows") == 4);
    CHECK(int_field(end, "failed_rows") == 2);
    CHECK(get_user(d, "ok1").at("properties").at("a") == 1);
    CHECK(get_user(d, "ok2").at("properties").at("a") == 2);
    CHECK(get_user(d, "nested").empty());
    CHECK(get_user(d, "listed").empty());

    auto errors = d.call("GET", "/v1/background_jobs/" + job_id + "/errors");
    REQUIRE(errors.status == 200);
    auto body = errors.json();
    const auto& list = body.at("errors").as_array();
    REQUIRE(list.size() == 2);
    CHECK(list[0].at("line") == 2);
    CHECK(list[0].at("user_id") == "nested");
    CHECK(list[0].at("field") == "metadata.address");
    CHECK(list[1].at("line") == 3);
    CHECK(list[1].at("user_id") == "listed");
    CHECK(list[1].at("field") == "metadata.tags");
}

TEST_CASE("a repeated Idempotency-Key returns the original job with 200, a reused one is 422",
          "[bulk][intake][idempotency][integration]")
{
    test_daemon d(unlimited);
    auto first = upload_ndjson(d, "users", user_rows(3), "", {{"Idempotency-Key", "batch-2025-02-01"}});
    auto job = check_accepted(first, "users", 3);
    std::string job_id = string_field(job, "job_id");
    wait_for_job_end(d, job_id);

    SECTION("the same upload again")
    {
        auto again = upload_ndjson(d, "users", user_rows(3), "", {{"Idempotency-Key", "batch-2025-02-01"}});
        INFO(again.body);
        REQUIRE(again.status == 200);
        CHECK(again.headers["idempotent-replayed"] == "true");
        CHECK(string_field(again.json().as_object(), "job_id") == job_id);
        CHECK(string_field(again.json().as_object(), "status") == "done");
        CHECK(job_count(d) == 1);
    }
    SECTION("another body with the same key, as a JSON document")
    {
        auto again = upload_json(d, "users", R"({"users":[{"user_id":"someone_else"}]})", "",
                                 {{"Idempotency-Key", "batch-2025-02-01"}});
        check_error(again, 422, "idempotency_key_reused", "Idempotency-Key");
        CHECK(get_user(d, "someone_else").empty());
        CHECK(job_count(d) == 1);
    }
    SECTION("another key is another job")
    {
        auto other = upload_ndjson(d, "users", user_rows(3), "", {{"Idempotency-Key", "batch-2025-02-02"}});
        auto second = check_accepted(other, "users", 3);
        CHECK(string_field(second, "job_id") != job_id);
    }
    SECTION("the same key in another project is another job")
    {
        std::string other_key = create_key(d.data_dir(), "other", "secret");
        auto other = upload_ndjson(d, "users", user_rows(3), other_key, {{"Idempotency-Key", "batch-2025-02-01"}});
        auto second = check_accepted(other, "users", 3);
        CHECK(string_field(second, "job_id") != job_id);
    }
    // No repeat left a spool file behind.
    wait_for_job_end(d, job_id);
    for (auto& name : spool_files(d))
        CHECK(name.find(".part") == std::string::npos);
}

TEST_CASE("a chunked upload without Content-Length is streamed in like any other", "[bulk][intake][integration]")
{
    test_daemon d(unlimited);
    http_connection c(d.port());
    std::string part1 = R"({"users":[{"user_id":"chunk1","metadata":{"a":1}},)";
    std::string part2 = R"({"user_id":"chunk2"}]})";
    auto hex = [](std::size_t n) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%zx", n);
        return std::string(buf);
    };
    c.send_raw("POST /v1/users/bulk_identify HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Token " + d.secret_key() +
               "\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" + hex(part1.size()) +
               "\r\n" + part1 + "\r\n" + hex(part2.size()) + "\r\n" + part2 + "\r\n0\r\n\r\n");
    auto job = check_accepted(c.read_reply(), "users", 2);
    CHECK(int_field(job, "file_size") == static_cast<std::int64_t>(part1.size() + part2.size()));
    auto end = wait_for_job_end(d, string_field(job, "job_id"));
    CHECK(string_field(end, "status") == "done");
    CHECK(get_user(d, "chunk1").at("properties").at("a") == 1);
    CHECK_FALSE(get_user(d, "chunk2").empty());
}

// SQLite only: it looks at the spool's files in the data dir; with PostgreSQL the spool is in the database
// (tests/integration/database_spool_test.cpp and cluster_test.cpp cover it there).
TEST_CASE("an upload whose key is revoked while its body streams in is 401 and leaves nothing behind",
          "[bulk][intake][keys][sqlite_only][integration]")
{
    test_daemon d(unlimited);
    std::string key = create_key(d.data_dir(), "default", "secret");
    std::string body = multipart_body(user_rows(500));
    http_connection c(d.port());
    c.send_raw("POST /v1/users/bulk_identify HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Token " + key +
               "\r\nContent-Type: multipart/form-data; boundary=" + test_boundary +
               "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body.substr(0, body.size() / 2));
    // The upload was admitted: its part file exists, so the key was live when the headers arrived.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (spool_files(d).empty() && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    REQUIRE(spool_files(d).size() == 1);
    CHECK(spool_files(d)[0].find(".part") != std::string::npos);

    auto revoked = run_profiled({"keys", "revoke", "--data-dir", d.data_dir(), key.substr(0, 11)});
    INFO(revoked.err);
    REQUIRE(revoked.exit_code == 0);
    c.send_raw(body.substr(body.size() / 2));
    auto r = c.read_reply();
    check_error(r, 401, "unauthorized");
    CHECK(r.error_message().find("revoked") != std::string::npos);
    check_nothing_left(d);
    CHECK(get_user(d, "u0").empty());
}

TEST_CASE("a job keeps running when its key is revoked after the upload was accepted",
          "[bulk][intake][keys][integration]")
{
    // 10 rows a second after a burst of 10: 30 rows take about 2 seconds.
    test_daemon d({"--rows-per-minute", "600", "--rows-burst", "10"});
    std::string key = create_key(d.data_dir(), "default", "secret");
    auto job = check_accepted(upload_ndjson(d, "users", user_rows(30), key), "users", 30);
    std::string job_id = string_field(job, "job_id");
    REQUIRE(run_profiled({"keys", "revoke", "--data-dir", d.data_dir(), key.substr(0, 11)}).exit_code == 0);
    CHECK(upload_ndjson(d, "users", user_rows(1), key).status == 401);
    CHECK(string_field(fetch_job(d, job_id), "status") != "done");

    auto end = wait_for_job_end(d, job_id);
    CHECK(string_field(end, "status") == "done");
    CHECK(int_field(end, "processed_rows") == 30);
    CHECK(int_field(end, "failed_rows") == 0);
    CHECK(get_user(d, "u29").at("properties").at("n") == 29);
}

TEST_CASE("a number that would be stored as another is refused: 400 for a single write, a row error in a job",
          "[bulk][intake][numbers][integration]")
{
    test_daemon d(unlimited);
    SECTION("POST /v1/identify with an integer beyond uint64 stores nothing")
    {
        auto r = d.identify(R"({"user_id":"too_big","metadata":{"n":18446744073709551616}})");
        check_error(r, 400, "number_out_of_range", "metadata.n");
        CHECK(r.error_message().find("18446744073709551616") != std::string::npos);
        CHECK(d.call("GET", "/v1/users/too_big").status == 404);
    }
    SECTION("POST /v1/identify with 1e400 stores nothing")
    {
        auto r = d.identify(R"({"user_id":"too_far","metadata":{"x":1.5,"n":1e400}})");
        check_error(r, 400, "number_out_of_range", "metadata.n");
        CHECK(d.call("GET", "/v1/users/too_far").status == 404);
    }
    SECTION("an integer that fits uint64 reads back digit for digit")
    {
        auto r = d.identify(R"({"user_id":"big","metadata":{"n":12345678901234567890,"f":0.5}})");
        INFO(r.body);
        REQUIRE(r.status == 202);
        auto got = d.call("GET", "/v1/users/big");
        REQUIRE(got.status == 200);
        CHECK(got.body.find("\"n\":12345678901234567890") != std::string::npos);
        CHECK(got.json().at("properties").at("n").as_uint64() == 12345678901234567890ULL);
    }
    SECTION("a bulk row with 1e-400 is a row error; the other rows are applied")
    {
        std::string file = "{\"user_id\":\"fine1\",\"metadata\":{\"a\":1.25}}\n"
                           "{\"user_id\":\"tiny\",\"metadata\":{\"a\":1e-400}}\n"
                           "{\"user_id\":\"fine2\",\"metadata\":{\"a\":18446744073709551615}}\n";
        auto job = check_accepted(upload_ndjson(d, "users", file), "users", 3);
        std::string job_id = string_field(job, "job_id");
        auto end = wait_for_job_end(d, job_id);
        CHECK(string_field(end, "status") == "done");
        CHECK(int_field(end, "processed_rows") == 3);
        CHECK(int_field(end, "failed_rows") == 1);
        CHECK(get_user(d, "fine1").at("properties").at("a") == 1.25);
        CHECK(get_user(d, "fine2").at("properties").at("a").as_uint64() == 18446744073709551615ULL);
        CHECK(get_user(d, "tiny").empty());
        auto errors = d.call("GET", "/v1/background_jobs/" + job_id + "/errors");
        REQUIRE(errors.status == 200);
        auto list = errors.json().at("errors").as_array();
        REQUIRE(list.size() == 1);
        CHECK(list[0].at("line") == 2);
        std::string message(list[0].at("message").as_string());
        CAPTURE(message);
        CHECK(message.find("1e-400") != std::string::npos);
        CHECK(message.find("metadata.a") != std::string::npos);
    }
    SECTION("the same row in a JSON document is a row error too")
    {
        auto job = check_accepted(
            upload_json(d, "users", R"({"users":[{"user_id":"j1"},{"user_id":"j2","metadata":{"a":-1E400}}]})"),
            "users", 2);
        auto end = wait_for_job_end(d, string_field(job, "job_id"));
        CHECK(string_field(end, "status") == "done");
        CHECK(int_field(end, "failed_rows") == 1);
        CHECK_FALSE(get_user(d, "j1").empty());
        CHECK(get_user(d, "j2").empty());
    }
}
