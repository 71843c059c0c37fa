// Bulk jobs as clients follow them: row errors, failed jobs, listings, project scoping, rate, fairness.
#include <chrono>
#include <string>
#include <thread>

#include <catch2/catch.hpp>

#include "tests/support/api_checks.hpp"
#include "tests/support/bulk_jobs.hpp"
#include "tests/support/test_daemon.hpp"

using namespace profiled::test;
using namespace std::chrono_literals;

namespace {

const std::vector<std::string> unlimited = {"--rows-per-minute", "0"};

// Uploads an NDJSON users file, requires a 202 and returns the job id.
std::string submit(const test_daemon& d, const std::string& ndjson, const std::string& key = "",
                   const std::string& type = "users")
{
    auto r = upload_ndjson(d, type, ndjson, key);
    INFO(r.body);
    REQUIRE(r.status == 202);
    return string_field(r.json().as_object(), "job_id");
}

// The job ids of a GET /v1/background_jobs answer, in order, and its next_cursor ("" when null).
struct job_list {
    std::vector<std::string> ids;
    std::string next_cursor;
};

// GET /v1/background_jobs with a query string.
job_list list_jobs(const test_daemon& d, const std::string& query)
{
    auto r = d.call("GET", "/v1/background_jobs" + query);
    INFO(query << " -> " << r.body);
    REQUIRE(r.status == 200);
    job_list out;
    auto body = r.json();
    for (const auto& j : body.at("jobs").as_array()) {
        // Each entry is the full job object.
        CHECK(j.as_object().contains("processed_rows"));
        out.ids.push_back(string_field(j.as_object(), "job_id"));
    }
    out.next_cursor = string_field(body.as_object(), "next_cursor");
    return out;
}

// One row error as (line, user_id or "", field or "", message).
struct row_error {
    std::int64_t line;
    std::string id;
    std::string field;
    std::string message;
};

// GET /v1/background_jobs/{id}/errors with a query string: the errors and next_cursor ("" when null).
std::pair<std::vector<row_error>, std::string> job_errors(const test_daemon& d, const std::string& job_id,
                                                          const std::string& query)
{
    auto r = d.call("GET", "/v1/background_jobs/" + job_id + "/errors" + query);
    INFO(query << " -> " << r.body);
    REQUIRE(r.status == 200);
    auto parsed = r.json();
    const auto& body = parsed.as_object();
    CHECK(string_field(body, "job_id") == job_id);
    std::vector<row_error> errors;
    for (const auto& e : body.at("errors").as_array()) {
        const auto& o = e.as_object();
        errors.push_back({int_field(o, "line"), string_field(o, "user_id"), string_field(o, "field"),
                          string_field(o, "message")});
    }
    return {errors, string_field(body, "next_cursor")};
}

} // namespace

TEST_CASE("a job with partly invalid rows ends done with exact counts and row errors", "[bulk][jobs][integration]")
{
    test_daemon d(unlimited);
    std::string file = "{\"user_id\":\"good1\",\"metadata\":{\"n\":1}}\n"      // 1
                       "{\"metadata\":{\"n\":2}}\n"                             // 2 no user_id
                       "{\"user_id\":\"good3\",\"metadata\":{\"n\":3}}\n"      // 3
                       "this is not json\n"                                     // 4
                       "\n"                                                     // 5 blank, not a row
                       "{\"user_id\":42}\n"                                     // 6 user_id a number
                       "{\"user_id\":\"good7\",\"metadata\":{\"n\":7}}\n"      // 7
                       "{\"user_id\":\"meta8\",\"metadata\":\"plain\"}\n"      // 8 metadata not an object
                       "{\"user_id\":\"comp9\",\"company_id\":\"\"}\n"         // 9 empty company_id
                       "{\"user_id\":\"good10\",\"metadata\":{\"n\":10}}\n"    // 10
                       "[1,2]\n"                                                // 11 not an object
                       "{\"user_id\":\"good12\",\"metadata\":{\"n\":12}}\n";   // 12
    std::string job_id = submit(d, file);
    auto end = wait_for_job_end(d, job_id);
    CHECK(string_field(end, "status") == "done");
    CHECK(int_field(end, "total_rows") == 11);
    CHECK(int_field(end, "processed_rows") == 11);
    CHECK(int_field(end, "failed_rows") == 6);
    CHECK(end.at("error").is_null());
    for (const char* id : {"good1", "good3", "good7", "good10", "good12"})
        CHECK_FALSE(get_user(d, id).empty());
    for (const char* id : {"meta8", "comp9"})
        CHECK(get_user(d, id).empty());

    SECTION("all errors in one page")
    {
        auto [errors, next] = job_errors(d, job_id, "");
        CHECK(next.empty());
        REQUIRE(errors.size() == 6);
        CHECK(errors[0].line == 2);
        CHECK(errors[0].id.empty());
        CHECK(errors[0].field == "user_id");
        CHECK(errors[0].message == "user_id is required");
        CHECK(errors[1].line == 4);
        CHECK(errors[1].id.empty());
        CHECK(errors[1].message.find("JSON") != std::string::npos);
        CHECK(errors[2].line == 6);
        CHECK(errors[2].field == "user_id");
        CHECK(errors[2].message == "user_id must be a string");
        CHECK(errors[3].line == 8);
        CHECK(errors[3].id == "meta8");
        CHECK(errors[3].field == "metadata");
        CHECK(errors[4].line == 9);
        CHECK(errors[4].id == "comp9");
        CHECK(errors[4].field == "company_id");
        CHECK(errors[5].line == 11);
        CHECK(errors[5].id.empty());
    }
    SECTION("page by page")
    {
        std::vector<std::int64_t> lines;
        std::string cursor;
        int pages = 0;
        do {
            auto [errors, next] = job_errors(d, job_id, "?limit=4" + (cursor.empty() ? "" : "&cursor=" + cursor));
            CHECK(errors.size() <= 4);
            for (const auto& e : errors)
                lines.push_back(e.line);
            cursor = next;
            ++pages;
        } while (!cursor.empty() && pages < 10);
        CHECK(pages == 2);
        CHECK(lines == std::vector<std::int64_t>{2, 4, 6, 8, 9, 11});
    }
    SECTION("bad paging parameters are 400")
    {
        check_error(d.call("GET", "/v1/background_jobs/" + job_id + "/errors?limit=0"), 400, "invalid_field", "limit");
        check_error(d.call("GET", "/v1/background_jobs/" + job_id + "/errors?cursor=x"), 400, "invalid_field",
                    "cursor");
    }
}

TEST_CASE("row errors of a JSON document name the row's position in the array", "[bulk][jobs][integration]")
{
    test_daemon d(unlimited);
    auto r = upload_json(d, "companies",
                         R"({"companies":[{"company_id":"c1"},{"company_id":5},{"metadata":{}},{"company_id":"c4"}]})");
    REQUIRE(r.status == 202);
    std::string job_id = string_field(r.json().as_object(), "job_id");
    auto end = wait_for_job_end(d, job_id);
    CHECK(string_field(end, "status") == "done");
    CHECK(int_field(end, "processed_rows") == 4);
    CHECK(int_field(end, "failed_rows") == 2);
    auto [errors, next] = job_errors(d, job_id, "");
    REQUIRE(errors.size() == 2);
    CHECK(errors[0].line == 2);
    CHECK(errors[0].field == "company_id");
    CHECK(errors[1].line == 3);
    CHECK(errors[1].message == "company_id is required");
}

TEST_CASE("a job whose every row is invalid ends failed and says why", "[bulk][jobs][integration]")
{
    test_daemon d(unlimited);
    std::string job_id = submit(d, "{\"user_id\":1}\n{\"nobody\":true}\nnot json\n");
    auto end = wait_for_job_end(d, job_id);
    CHECK(string_field(end, "status") == "failed");
    CHECK(int_field(end, "processed_rows") == 3);
    CHECK(int_field(end, "failed_rows") == 3);
    CHECK_FALSE(string_field(end, "error").empty());
    CHECK(end.at("finished_at").is_string());
    auto [errors, next] = job_errors(d, job_id, "");
    CHECK(errors.size() == 3);
    CHECK(spool_files(d).empty());
}

TEST_CASE("jobs are listed newest first, by status, page by page", "[bulk][jobs][integration]")
{
    test_daemon d(unlimited);
    std::string first = submit(d, user_rows(3));
    wait_for_job_end(d, first);
    std::string failed = submit(d, "{\"user_id\":1}\n");
    wait_for_job_end(d, failed);
    std::string third = submit(d, "{\"company_id\":\"c1\"}\n", "", "companies");
    wait_for_job_end(d, third);

    CHECK(list_jobs(d, "").ids == std::vector<std::string>{third, failed, first});
    CHECK(list_jobs(d, "?status=failed").ids == std::vector<std::string>{failed});
    CHECK(list_jobs(d, "?status=done").ids == std::vector<std::string>{third, first});
    CHECK(list_jobs(d, "?status=queued").ids.empty());

    auto page1 = list_jobs(d, "?limit=2");
    CHECK(page1.ids == std::vector<std::string>{third, failed});
    REQUIRE_FALSE(page1.next_cursor.empty());
    auto page2 = list_jobs(d, "?limit=2&cursor=" + page1.next_cursor);
    CHECK(page2.ids == std::vector<std::string>{first});
    CHECK(page2.next_cursor.empty());

    auto done1 = list_jobs(d, "?status=done&limit=1");
    CHECK(done1.ids == std::vector<std::string>{third});
    REQUIRE_FALSE(done1.next_cursor.empty());
    auto done2 = list_jobs(d, "?status=done&limit=1&cursor=" + done1.next_cursor);
    CHECK(done2.ids == std::vector<std::string>{first});

    check_error(d.call("GET", "/v1/background_jobs?status=finished"), 400, "invalid_field", "status");
    check_error(d.call("GET", "/v1/background_jobs?limit=0"), 400, "invalid_field", "limit");
    check_error(d.call("GET", "/v1/background_jobs?limit=ten"), 400, "invalid_field", "limit");
}

TEST_CASE("another project's job is 404 and absent from its listing", "[bulk][jobs][auth][integration]")
{
    test_daemon d(unlimited);
    std::string other_key = create_key(d.data_dir(), "other", "secret");
    std::string mine = submit(d, user_rows(2));
    std::string theirs = submit(d, user_rows(2, 100), other_key);
    wait_for_job_end(d, mine);
    CHECK(string_field(wait_for_job_end(d, theirs, 30000, other_key), "status") == "done");

    check_error(http_call(d.port(), "GET", "/v1/background_jobs/" + mine, "", {{"Authorization", "Token " + other_key}}),
                404, "not_found");
    check_error(http_call(d.port(), "GET", "/v1/background_jobs/" + mine + "/errors", "",
                          {{"Authorization", "Token " + other_key}}),
                404, "not_found");
    check_error(d.call("GET", "/v1/background_jobs/" + theirs), 404, "not_found");
    check_error(d.call("GET", "/v1/background_jobs/no-such-job"), 404, "not_found");
    CHECK(list_jobs(d, "").ids == std::vector<std::string>{mine});
    // The other project's rows went into the other project.
    CHECK(get_user(d, "u100").empty());
    CHECK_FALSE(get_user(d, "u0").empty());
}

TEST_CASE("with a row rate, a job advances gradually and ends done", "[bulk][jobs][rate][integration]")
{
    // 10 rows a second after a burst of 10: 40 rows take about 3 seconds.
    test_daemon d({"--rows-per-minute", "600", "--rows-burst", "10"});
    std::string job_id = submit(d, user_rows(40));
    bool seen_midway = false;
    boost::json::object job;
    auto deadline = std::chrono::steady_clock::now() + 30s;
    while (std::chrono::steady_clock::now() < deadline) {
        job = fetch_job(d, job_id);
        auto processed = int_field(job, "processed_rows");
        if (processed > 0 && processed < 40) {
            seen_midway = true;
            CHECK(string_field(job, "status") == "running");
        }
        if (string_field(job, "status") == "done" || string_field(job, "status") == "failed")
            break;
        std::this_thread::sleep_for(50ms);
    }
    CHECK(seen_midway);
    CHECK(string_field(job, "status") == "done");
    CHECK(int_field(job, "processed_rows") == 40);
    CHECK(get_user(d, "u39").at("properties").at("n") == 39);
}

TEST_CASE("two projects' jobs progress side by side, and one project's jobs run oldest first",
          "[bulk][jobs][fairness][integration]")
{
    test_daemon d({"--rows-per-minute", "600", "--rows-burst", "10"});
    std::string other_key = create_key(d.data_dir(), "other", "secret");
    // Project "default" queues two jobs before "other" queues one.
    std::string a1 = submit(d, user_rows(30));
    std::string a2 = submit(d, user_rows(10, 30));
    std::string b = submit(d, user_rows(20, 0, "b"), other_key);

    bool both_progressing = false, order_kept = true;
    std::string a1_status, a2_status, b_status;
    auto deadline = std::chrono::steady_clock::now() + 30s;
    while (std::chrono::steady_clock::now() < deadline) {
        // a2 before a1: if a2 has rows, a1 must already have been done when a2 was read.
        auto ja2 = fetch_job(d, a2);
        auto ja1 = fetch_job(d, a1);
        auto jb = fetch_job(d, b, other_key);
        a1_status = string_field(ja1, "status");
        a2_status = string_field(ja2, "status");
        b_status = string_field(jb, "status");
        if (int_field(ja1, "processed_rows") > 0 && int_field(jb, "processed_rows") > 0 && a1_status == "running" &&
            b_status == "running")
            both_progressing = true;
        // A project's second job waits for its first.
        if (a1_status != "done" && int_field(ja2, "processed_rows") > 0)
            order_kept = false;
        if (a2_status == "done" && b_status == "done")
            break;
        std::this_thread::sleep_for(30ms);
    }
    CHECK(both_progressing);
    CHECK(order_kept);
    CHECK(a1_status == "done");
    CHECK(a2_status == "done");
    CHECK(b_status == "done");
    CHECK(int_field(fetch_job(d, a2), "processed_rows") == 10);
    CHECK(int_field(fetch_job(d, b, other_key), "processed_rows") == 20);
}

TEST_CASE("single identifies and reads are answered while a bulk job runs", "[bulk][jobs][integration]")
{
    // Large chunks (2,000 rows a transaction) at 2,000 rows a second: 6,000 rows keep the runner busy for seconds.
    test_daemon d({"--rows-per-minute", "120000", "--rows-burst", "2000"});
    std::string job_id = submit(d, user_rows(6000));
    int answered_while_running = 0, refused = 0, identifies = 0;
    auto deadline = std::chrono::steady_clock::now() + 60s;
    while (std::chrono::steady_clock::now() < deadline) {
        bool running_before = string_field(fetch_job(d, job_id), "status") == "running";
        auto r = d.identify("{\"user_id\":\"single\",\"metadata\":{\"i\":" + std::to_string(identifies) + "}}");
        ++identifies;
        if (r.status != 202)
            ++refused;
        auto u = get_user(d, "single");
        bool read_ok = !u.empty() && u.at("properties").at("i") == identifies - 1;
        std::string status = string_field(fetch_job(d, job_id), "status");
        if (running_before && status == "running" && r.status == 202 && read_ok)
            ++answered_while_running;
        if (status == "done" || status == "failed")
            break;
    }
    CHECK(refused == 0);
    CHECK(answered_while_running > 0);
    auto end = wait_for_job_end(d, job_id);
    CHECK(string_field(end, "status") == "done");
    CHECK(int_field(end, "processed_rows") == 6000);
    CHECK(get_user(d, "u5999").at("properties").at("n") == 5999);
}
