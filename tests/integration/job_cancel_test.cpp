// Cancelling bulk jobs through the real daemon: a queued job ends at once, a running one at its next chunk with
// exact counts, ended jobs are refused, other projects' jobs are invisible, and `profiled jobs cancel`.
#include <chrono>
#include <csignal>
#include <string>
#include <thread>

#include <catch2/catch.hpp>

#include "tests/support/api_checks.hpp"
#include "tests/support/bulk_jobs.hpp"
#include "tests/support/test_daemon.hpp"

using namespace profiled::test;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

// 10 rows a second after a burst of 5: a job of a few hundred rows is still running when the test cancels it.
const std::vector<std::string> slow_rate = {"--rows-per-minute", "600", "--rows-burst", "5"};

// n users rows u<i> in order, every tenth one (i = 9, 19, ...) invalid (nested metadata), so both counts move.
std::string rows_with_invalid(int n)
{
    std::string out;
    for (int i = 0; i < n; ++i) {
        if (i % 10 == 9)
            out += R"({"user_id":"u)" + std::to_string(i) +
                   R"(","metadata":{"nested":{"x":1}}})"
                   "\n";
        else
            out += R"({"user_id":"u)" + std::to_string(i) + R"(","metadata":{"n":)" + std::to_string(i) + "}}\n";
    }
    return out;
}

// Uploads users NDJSON, requires a 202, returns the job id.
std::string submit(const test_daemon& d, const std::string& ndjson)
{
    auto r = upload_ndjson(d, "users", ndjson);
    INFO(r.body);
    REQUIRE(r.status == 202);
    return string_field(r.json().as_object(), "job_id");
}

// POST /v1/background_jobs/{job_id}/cancel with the secret key (or the given Authorization value).
http_reply cancel(const test_daemon& d, const std::string& job_id, const std::string& authorization = "")
{
    header_list headers;
    headers.emplace_back("Authorization", authorization.empty() ? "Token " + d.secret_key() : authorization);
    return http_call(d.port(), "POST", "/v1/background_jobs/" + job_id + "/cancel", "", headers);
}

// The job.failed log lines of this job.
std::vector<json::object> failed_lines(const test_daemon& d, const std::string& job_id)
{
    std::vector<json::object> out;
    for (const auto& line : d.log_lines())
        if (line.contains("event") && line.at("event") == "job.failed" && line.contains("job_id") &&
            line.at("job_id") == job_id.c_str())
            out.push_back(line);
    return out;
}

// The value of one Prometheus sample line (0 when absent).
double metric_value(const std::string& text, const std::string& sample)
{
    auto at = text.find("\n" + sample + " ");
    if (at == std::string::npos)
        return 0;
    return std::stod(text.substr(at + sample.size() + 2));
}

} // namespace

TEST_CASE("cancel: a queued job ends at once and a running one at its next chunk, with exact counts",
          "[jobs][cancel][integration]")
{
    test_daemon d(slow_rate);
    const int rows = 400;
    std::string running_id = submit(d, rows_with_invalid(rows));
    wait_for_processed(d, running_id, 20);
    // The project's first job holds it: the second waits, queued, behind it.
    std::string queued_id = submit(d, rows_with_invalid(5));
    REQUIRE(string_field(fetch_job(d, queued_id), "status") == "queued");

    // A queued job ends at once, having applied nothing.
    auto q = cancel(d, queued_id);
    INFO(q.body);
    REQUIRE(q.status == 202);
    auto queued = q.json().as_object();
    CHECK(string_field(queued, "job_id") == queued_id);
    CHECK(string_field(queued, "status") == "failed");
    CHECK(string_field(queued, "error") == "cancelled");
    CHECK(int_field(queued, "processed_rows") == 0);
    CHECK(int_field(queued, "failed_rows") == 0);
    CHECK(queued.at("started_at").is_null());
    CHECK(string_field(queued, "cancelled_at").size() == std::string("2026-01-01T00:00:00.000Z").size());
    CHECK(string_field(queued, "cancelled_at").ends_with("Z"));
    CHECK_FALSE(string_field(queued, "finished_at").empty());
    CHECK(queued.at("duration_seconds").to_number<double>() == 0);
    CHECK(fetch_job(d, queued_id) == queued);
    check_error(cancel(d, queued_id), 409, "job_finished");

    // A public key is refused like on every secret route, and changes nothing.
    check_error(cancel(d, running_id, "Token " + d.public_key()), 403, "forbidden");
    CHECK(string_field(fetch_job(d, running_id), "status") == "running");
    CHECK(fetch_job(d, running_id).at("cancelled_at").is_null());

    // A running job: 202 at once, and again for a second request; it ends before its next chunk.
    auto r = cancel(d, running_id);
    INFO(r.body);
    REQUIRE(r.status == 202);
    std::string cancelled_at = string_field(r.json().as_object(), "cancelled_at");
    CHECK_FALSE(cancelled_at.empty());
    auto again = cancel(d, running_id);
    if (again.status == 202)
        CHECK(string_field(again.json().as_object(), "cancelled_at") == cancelled_at);
    else
        check_error(again, 409, "job_finished"); // it ended between the two requests
    auto end = wait_for_job_end(d, running_id, 5000);
    CHECK(string_field(end, "status") == "failed");
    CHECK(string_field(end, "error") == "cancelled");
    CHECK(string_field(end, "cancelled_at") == cancelled_at);
    std::int64_t processed = int_field(end, "processed_rows");
    REQUIRE(processed >= 20);
    REQUIRE(processed < rows);
    // Exact: the rows of the chunks applied, every tenth of them invalid; nothing after them was written.
    CHECK(int_field(end, "failed_rows") == processed / 10);
    auto errors = d.call("GET", "/v1/background_jobs/" + running_id + "/errors?limit=100");
    REQUIRE(errors.status == 200);
    CHECK(errors.json().at("errors").as_array().size() == static_cast<std::size_t>(processed / 10));
    auto last = processed - 1;
    if (last % 10 == 9)
        --last;
    CHECK(get_user(d, "u" + std::to_string(last)).contains("user_id"));
    CHECK(get_user(d, "u" + std::to_string(processed)).empty());
    CHECK(get_user(d, "u" + std::to_string(rows - 2)).empty());
    std::this_thread::sleep_for(300ms);
    CHECK(fetch_job(d, running_id) == end);
    check_error(cancel(d, running_id), 409, "job_finished");

    // Logged as failed, saying so, and counted as failed.
    for (const auto& id : {queued_id, running_id}) {
        CAPTURE(id);
        auto lines = failed_lines(d, id);
        REQUIRE(lines.size() == 1);
        CHECK(lines[0].at("cancelled") == true);
    }
    auto metrics = http_call(d.port(), "GET", "/metrics");
    REQUIRE(metrics.status == 200);
    CHECK(metric_value(metrics.body, R"(profiled_jobs_total{status="failed"})") == 2);
    CHECK(metric_value(metrics.body, R"(profiled_jobs{status="failed"})") == 2);

    // Unknown jobs and other projects' jobs are not found, as with GET.
    check_error(cancel(d, "00000000-0000-0000-0000-000000000000"), 404, "not_found");
    std::string other = create_key(d.data_dir(), "other", "secret", d.database());
    auto mine = submit(d, rows_with_invalid(3));
    check_error(cancel(d, mine, "Bearer " + other), 404, "not_found");
    CHECK(string_field(wait_for_job_end(d, mine), "status") == "done");
}

TEST_CASE("jobs cancel asks the daemon and exits non-zero for an ended or unknown job",
          "[jobs][cancel][cli][integration]")
{
    test_daemon d(slow_rate);
    std::string job_id = submit(d, rows_with_invalid(300));
    wait_for_processed(d, job_id, 10);
    std::string url = "http://127.0.0.1:" + std::to_string(d.port());

    auto ok = run_profiled({"jobs", "cancel", job_id, "--url", url, "--key", d.secret_key()});
    INFO(ok.out << ok.err);
    CHECK(ok.exit_code == 0);
    CHECK(ok.out.starts_with("JOB_ID"));
    CHECK(ok.out.find(job_id) != std::string::npos);
    CHECK(ok.out.find("cancel") != std::string::npos);
    auto end = wait_for_job_end(d, job_id, 5000);
    CHECK(string_field(end, "status") == "failed");
    CHECK(string_field(end, "error") == "cancelled");

    // The key from the environment, as profiled import takes it; the job has ended now.
    auto ended = run_profiled({"jobs", "cancel", job_id, "--url", url}, {"PROFILED_API_KEY=" + d.secret_key()});
    CHECK(ended.exit_code == 1);
    CHECK(ended.err.find("already ended") != std::string::npos);
    CHECK(ended.err.find("409") != std::string::npos);
    CHECK(ended.err.find("job_finished") != std::string::npos);

    auto unknown = run_profiled({"jobs", "cancel", "00000000-0000-0000-0000-000000000000", "--url", url, "--key",
                                 d.secret_key()});
    CHECK(unknown.exit_code == 1);
    CHECK(unknown.err.find("404") != std::string::npos);
    CHECK(unknown.err.find("not_found") != std::string::npos);

    auto public_key = run_profiled({"jobs", "cancel", job_id, "--url", url, "--key", d.public_key()});
    CHECK(public_key.exit_code == 1);
    CHECK(public_key.err.find("403") != std::string::npos);

    CHECK(run_profiled({"jobs", "cancel", job_id, "--key", d.secret_key()}).exit_code == 2);
    CHECK(run_profiled({"jobs", "cancel", "--url", url, "--key", d.secret_key()}).exit_code == 2);
    auto down = run_profiled({"jobs", "cancel", job_id, "--url", "http://127.0.0.1:1", "--key", d.secret_key()});
    CHECK(down.exit_code == 1);
    CHECK(down.err.find("cannot connect") != std::string::npos);
    auto help = run_profiled({"jobs", "cancel", "--help"});
    CHECK(help.exit_code == 0);
    CHECK(help.out.find("--url") != std::string::npos);
}

TEST_CASE("a job object links to itself and its errors", "[jobs][integration]")
{
    test_daemon d;
    std::string job_id = submit(d, rows_with_invalid(10));
    auto end = wait_for_job_end(d, job_id);
    REQUIRE(string_field(end, "status") == "done");
    auto links = end.at("links").as_object();
    CHECK(links.at("self") == ("/v1/background_jobs/" + job_id).c_str());
    CHECK(links.at("errors") == ("/v1/background_jobs/" + job_id + "/errors").c_str());
    CHECK(d.call("GET", std::string(links.at("self").as_string())).status == 200);
    auto errors = d.call("GET", std::string(links.at("errors").as_string()));
    REQUIRE(errors.status == 200);
    CHECK(errors.json().at("errors").as_array().size() == 1);
    CHECK(end.at("cancelled_at").is_null());
    CHECK(end.at("duration_seconds").to_number<double>() >= 0);
    auto listed = d.call("GET", "/v1/background_jobs");
    REQUIRE(listed.status == 200);
    CHECK(listed.json().at("jobs").as_array().at(0).as_object() == end);
}

TEST_CASE("duration_seconds sums a job's processing across a kill -9 and a restart, and job.started says resumed",
          "[jobs][recovery][crash][integration]")
{
    // 20 rows a second after a burst of 10: 120 rows take about 5.5 s.
    test_daemon d({"--rows-per-minute", "1200", "--rows-burst", "10"});
    std::string job_id = submit(d, user_rows(120));
    wait_for_processed(d, job_id, 50); // at least 2 s of processing committed
    CHECK(d.stop(SIGKILL) == 128 + SIGKILL);
    std::this_thread::sleep_for(2s); // no daemon runs the job: this does not count
    auto restarted = std::chrono::steady_clock::now();
    d.start();
    auto end = wait_for_job_end(d, job_id, 20000);
    double second_run = std::chrono::duration<double>(std::chrono::steady_clock::now() - restarted).count();
    CHECK(string_field(end, "status") == "done");
    CHECK(int_field(end, "processed_rows") == 120);
    double duration = end.at("duration_seconds").to_number<double>();
    CAPTURE(duration, second_run);
    CHECK(duration > second_run);
    CHECK(duration < 12); // the 2 s down did not count, nor any time queued

    std::vector<json::object> started;
    for (const auto& line : d.log_lines())
        if (line.contains("event") && line.at("event") == "job.started" && line.at("job_id") == job_id.c_str())
            started.push_back(line);
    REQUIRE(started.size() == 2);
    CHECK(started[0].at("resumed") == false);
    CHECK(started[1].at("resumed") == true);
    CHECK(started[1].at("resumed_at_row").to_number<std::int64_t>() >= 50);
}

TEST_CASE("a users bulk row's company_id creates the company as identify's company does",
          "[jobs][bulk][companies][integration]")
{
    test_daemon d;
    REQUIRE(d.call("POST", "/v1/companies/identify", R"({"company_id":"oldco","metadata":{"plan":"pro"}})",
                   {{"Content-Type", "application/json"}})
                .status == 202);
    auto before = d.call("GET", "/v1/companies/oldco").json().as_object();
    REQUIRE(d.identify(R"({"user_id":"by_identify","company":{"id":"identco"}})").status == 202);

    auto job = upload_json(
        d, "users",
        R"({"users":[{"user_id":"a","company_id":"newco"},{"user_id":"b","company_id":"oldco"},)"
        R"({"user_id":"c","company_id":"newco","metadata":{"x":1}},{"user_id":"e","company_id":null},)"
        R"({"user_id":"bad","company_id":"badco","metadata":{"nested":{"x":1}}}]})");
    REQUIRE(job.status == 202);
    auto end = wait_for_job_end(d, string_field(job.json().as_object(), "job_id"));
    REQUIRE(string_field(end, "status") == "done");
    CHECK(int_field(end, "failed_rows") == 1);
    auto ndjson = upload_ndjson(d, "users",
                                R"({"user_id":"f","company_id":"ndco"})"
                                "\n");
    REQUIRE(ndjson.status == 202);
    REQUIRE(string_field(wait_for_job_end(d, string_field(ndjson.json().as_object(), "job_id")), "status") == "done");

    auto by_identify = d.call("GET", "/v1/companies/identco");
    REQUIRE(by_identify.status == 200);
    for (const char* id : {"newco", "ndco"}) {
        CAPTURE(id);
        auto created = d.call("GET", std::string("/v1/companies/") + id);
        REQUIRE(created.status == 200);
        CHECK(created.json().at("company_id") == id);
        CHECK(created.json().at("properties") == by_identify.json().at("properties"));
    }
    CHECK(string_field(get_user(d, "a"), "company_id") == "newco");
    CHECK(string_field(get_user(d, "f"), "company_id") == "ndco");
    // An existing company keeps its properties and creation time; a rejected row creates nothing.
    auto old = d.call("GET", "/v1/companies/oldco").json().as_object();
    CHECK(old.at("properties") == before.at("properties"));
    CHECK(old.at("created_at") == before.at("created_at"));
    CHECK(d.call("GET", "/v1/companies/badco").status == 404);
    auto companies = d.call("GET", "/v1/companies");
    REQUIRE(companies.status == 200);
    CHECK(companies.json().at("companies").as_array().size() == 4); // oldco, identco, newco, ndco
}
