// `profiled import FILE --url URL --key KEY [--type users|companies]` against a real daemon.
#include <chrono>
#include <csignal>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>

#include <sys/wait.h>

#include <catch2/catch.hpp>

#include "tests/support/api_checks.hpp"
#include "tests/support/bulk_jobs.hpp"
#include "tests/support/test_daemon.hpp"

using namespace profiled::test;

namespace {

// Writes text to name in dir and returns its path.
std::string write_file(const temp_dir& dir, const std::string& name, const std::string& text)
{
    std::string path = dir.path() + "/" + name;
    std::ofstream(path, std::ios::binary) << text;
    return path;
}

// `profiled import FILE --url ... --key ...` with a short poll interval, plus extra arguments.
command_result import_file(const test_daemon& d, const std::string& file, std::vector<std::string> extra = {},
                           const std::string& key = "")
{
    std::vector<std::string> args{"import", file, "--url", "http://127.0.0.1:" + std::to_string(d.port()),
                                  "--key", key.empty() ? d.secret_key() : key, "--poll-interval", "0.05"};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_profiled(args);
}

// True when text contains needle.
bool has(const std::string& text, const std::string& needle) { return text.find(needle) != std::string::npos; }

} // namespace

TEST_CASE("import uploads an NDJSON file, follows the job with plain lines, exits 0 on done",
          "[import][cli][integration]")
{
    // Rate-limited so the job is followed for a while: 10 rows at once, then 20 a second.
    test_daemon d({"--rows-per-minute", "1200", "--rows-burst", "10"});
    temp_dir dir;
    std::string file = write_file(dir, "people.ndjson", user_rows(30));
    auto r = import_file(d, file);
    INFO("stdout:\n" << r.out << "stderr:\n" << r.err);
    CHECK(r.exit_code == 0);
    CHECK(has(r.out, "uploaded " + file));
    CHECK(has(r.out, "30 rows of users"));
    // Not a terminal: plain progress lines, no bar redrawn with \r or escape sequences.
    CHECK(has(r.out, "/30 rows ("));
    CHECK_FALSE(has(r.out, "\r"));
    CHECK_FALSE(has(r.out, "\x1b"));
    CHECK(has(r.out, "done: 30 rows processed (30 applied, 0 failed)"));
    CHECK(get_user(d, "u29").at("properties").at("n") == 29);
}

TEST_CASE("import sends a JSON document of companies with --type companies", "[import][cli][integration]")
{
    test_daemon d({"--rows-per-minute", "0"});
    temp_dir dir;
    std::string file =
        write_file(dir, "companies.json", R"({"companies":[{"company_id":"acme","metadata":{"plan":"pro"}},)"
                                          R"({"company_id":"globex"}]})");
    auto r = import_file(d, file, {"--type", "companies"});
    INFO("stdout:\n" << r.out << "stderr:\n" << r.err);
    CHECK(r.exit_code == 0);
    CHECK(has(r.out, "done: 2 rows processed (2 applied, 0 failed)"));
    auto acme = d.call("GET", "/v1/companies/acme");
    REQUIRE(acme.status == 200);
    CHECK(acme.json().at("properties").at("plan") == "pro");
    CHECK(d.call("GET", "/v1/companies/globex").status == 200);
}

TEST_CASE("import lists failed rows, and a done job with some failed rows still exits 0", "[import][cli][integration]")
{
    test_daemon d({"--rows-per-minute", "0"});
    temp_dir dir;
    std::string file = write_file(dir, "mixed.ndjson",
                                  "{\"user_id\":\"ok\"}\n{\"user_id\":\"deep\",\"metadata\":{\"a\":{\"b\":1}}}\n");
    auto r = import_file(d, file);
    INFO("stdout:\n" << r.out << "stderr:\n" << r.err);
    CHECK(r.exit_code == 0);
    CHECK(has(r.out, "done: 2 rows processed (1 applied, 1 failed)"));
    CHECK(has(r.out, "1 row failed"));
    CHECK(has(r.out, "line 2: user_id deep, field metadata.a:"));
}

TEST_CASE("import exits non-zero when the job fails, with the failed-row summary", "[import][cli][integration]")
{
    test_daemon d({"--rows-per-minute", "0"});
    temp_dir dir;
    std::string file = write_file(dir, "bad.ndjson", "{\"company_id\":\"c1\"}\n{\"user_id\":7}\n{\"user_id\":\"\"}\n");
    auto r = import_file(d, file);
    INFO("stdout:\n" << r.out << "stderr:\n" << r.err);
    CHECK(r.exit_code == 1);
    CHECK(has(r.out, "failed: 3 rows processed (0 applied, 3 failed)"));
    CHECK(has(r.out, "3 rows failed"));
    CHECK(has(r.out, "line 1: field user_id: user_id is required"));
    CHECK(has(r.out, "line 2: field user_id: user_id must be a string"));
    CHECK(has(r.out, "line 3: "));
    CHECK(has(r.err, "failed: every row failed validation"));
}

TEST_CASE("import reports a refused upload and usage errors", "[import][cli][integration]")
{
    test_daemon d({"--rows-per-minute", "0", "--max-job-rows", "2", "--max-upload-bytes", "20000"});
    temp_dir dir;
    std::string file = write_file(dir, "three.ndjson", user_rows(3));
    SECTION("over the row limit: the server's reason, exit 1")
    {
        auto r = import_file(d, file);
        CHECK(r.exit_code == 1);
        CHECK(has(r.err, "refused the upload"));
        CHECK(has(r.err, "--max-job-rows"));
        CHECK(has(r.err, "413"));
    }
    SECTION("over the upload size limit: the server's reason, though it stops reading early; exit 1")
    {
        auto r = import_file(d, write_file(dir, "big.ndjson", user_rows(5000)));
        CHECK(r.exit_code == 1);
        CHECK(has(r.err, "--max-upload-bytes"));
        CHECK(has(r.err, "413"));
    }
    SECTION("an unknown key: exit 1")
    {
        auto r = import_file(d, file, {}, "pk_not_a_real_key");
        CHECK(r.exit_code == 1);
        CHECK(has(r.err, "401"));
    }
    SECTION("a missing file: exit 1, nothing uploaded")
    {
        auto r = import_file(d, dir.path() + "/absent.ndjson");
        CHECK(r.exit_code == 1);
        CHECK(has(r.err, "no such file"));
    }
    SECTION("usage errors: exit 2")
    {
        CHECK(import_file(d, file, {"--type", "people"}).exit_code == 2);
        CHECK(run_profiled({"import", file, "--key", d.secret_key()}).exit_code == 2);
        CHECK(run_profiled({"import", "--url", "http://127.0.0.1:1", "--key", "k"}).exit_code == 2);
        CHECK(run_profiled({"import", file, "--url", "https://127.0.0.1:1", "--key", "k"}).exit_code == 2);
    }
    auto jobs = d.call("GET", "/v1/background_jobs");
    REQUIRE(jobs.status == 200);
    CHECK(jobs.json().at("jobs").as_array().empty());
}

TEST_CASE("import with --idempotency-key follows the first job when repeated", "[import][cli][integration]")
{
    test_daemon d({"--rows-per-minute", "0"});
    temp_dir dir;
    std::string file = write_file(dir, "once.ndjson", user_rows(2));
    auto first = import_file(d, file, {"--idempotency-key", "nightly-2025-02-01"});
    CHECK(first.exit_code == 0);
    auto again = import_file(d, file, {"--idempotency-key", "nightly-2025-02-01"});
    INFO("stdout:\n" << again.out << "stderr:\n" << again.err);
    CHECK(again.exit_code == 0);
    CHECK(has(again.out, "already uploaded with Idempotency-Key nightly-2025-02-01"));
    auto jobs = d.call("GET", "/v1/background_jobs");
    REQUIRE(jobs.status == 200);
    CHECK(jobs.json().at("jobs").as_array().size() == 1);
}

TEST_CASE("import --help describes the command", "[import][cli][integration]")
{
    auto r = run_profiled({"import", "--help"});
    CHECK(r.exit_code == 0);
    CHECK(has(r.out, "profiled import FILE... --url URL --key KEY"));
    for (const char* text : {"--type TYPE", "--max-failed-ratio RATIO", "--url URL", "--key KEY", "PROFILED_URL",
                             "PROFILED_API_KEY", "profiled jobs watch JOB_ID"})
        CHECK(has(r.out, text));
    CHECK_FALSE(has(r.out, " arg "));
    CHECK_FALSE(has(r.out, "]:"));
}

TEST_CASE("import takes several files, one job each, and says how many were imported", "[import][cli][integration]")
{
    test_daemon d({"--rows-per-minute", "0"});
    temp_dir dir;
    std::string a = write_file(dir, "a.ndjson", user_rows(3, 0, "a"));
    std::string b = write_file(dir, "b.ndjson", user_rows(2, 10, "b"));
    auto r = import_file(d, a, {b});
    INFO("stdout:\n" << r.out << "stderr:\n" << r.err);
    CHECK(r.exit_code == 0);
    CHECK(has(r.out, "uploaded " + a));
    CHECK(has(r.out, "uploaded " + b));
    CHECK(has(r.out, "2 of 2 files imported"));
    auto jobs = d.call("GET", "/v1/background_jobs");
    REQUIRE(jobs.status == 200);
    CHECK(jobs.json().at("jobs").as_array().size() == 2);
    CHECK(get_user(d, "u11").at("properties").at("tag") == "b");

    SECTION("a missing one fails alone: the others are imported, the exit code is 1")
    {
        auto partly = import_file(d, dir.path() + "/absent.ndjson", {b});
        CHECK(partly.exit_code == 1);
        CHECK(has(partly.err, "no such file"));
        CHECK(has(partly.out, "1 of 2 files imported"));
    }
    SECTION("--idempotency-key names one upload")
    {
        auto refused = import_file(d, a, {b, "--idempotency-key", "k1"});
        CHECK(refused.exit_code == 2);
        CHECK(has(refused.err, "--idempotency-key"));
    }
}

TEST_CASE("import warns when the rows do not look like --type, and imports them as told", "[import][cli][integration]")
{
    test_daemon d({"--rows-per-minute", "0"});
    temp_dir dir;
    std::string companies = write_file(dir, "companies.ndjson",
                                       "{\"company_id\":\"acme\",\"metadata\":{}}\n{\"company_id\":\"globex\"}\n");
    auto as_users = import_file(d, companies);
    INFO("stdout:\n" << as_users.out << "stderr:\n" << as_users.err);
    CHECK(has(as_users.err, "warning: the first rows of " + companies + " look like companies, but --type is users"));
    // As users, every row lacks its user_id: the job fails.
    CHECK(as_users.exit_code == 1);

    std::string users = write_file(dir, "users.ndjson", user_rows(2));
    auto as_companies = import_file(d, users, {"--type", "companies"});
    CHECK(has(as_companies.err, "look like users, but --type is companies"));
    auto matching = import_file(d, users);
    CHECK(matching.exit_code == 0);
    CHECK_FALSE(has(matching.err, "warning"));
}

TEST_CASE("import --max-failed-ratio exits 1 when more rows failed than it allows", "[import][cli][integration]")
{
    test_daemon d({"--rows-per-minute", "0"});
    temp_dir dir;
    // 1 row of 4 fails: a share of 0.25.
    std::string file = write_file(dir, "quarter.ndjson", user_rows(3) + "{\"metadata\":{}}\n");
    auto strict = import_file(d, file, {"--max-failed-ratio", "0.2"});
    INFO("stdout:\n" << strict.out << "stderr:\n" << strict.err);
    CHECK(strict.exit_code == 1);
    CHECK(has(strict.err, "1 of 4 rows failed"));
    CHECK(has(strict.err, "--max-failed-ratio 0.2"));
    CHECK(import_file(d, file, {"--max-failed-ratio", "0.25"}).exit_code == 0);
    CHECK(import_file(d, file).exit_code == 0);
    CHECK(import_file(d, file, {"--max-failed-ratio", "1.5"}).exit_code == 2);
}

TEST_CASE("Ctrl-C during import says the job goes on and how to follow it, and jobs watch follows it",
          "[import][cli][integration]")
{
    // 5 rows at once, then one a second: the job is still running when the command is interrupted.
    test_daemon d({"--rows-per-minute", "60", "--rows-burst", "5"});
    temp_dir dir;
    std::string file = write_file(dir, "slow.ndjson", user_rows(8));
    std::string url = "http://127.0.0.1:" + std::to_string(d.port());
    std::string out = dir.path() + "/import.out", err = dir.path() + "/import.err";
    pid_t pid = spawn_profiled({"import", file, "--url", url, "--poll-interval", "0.05"},
                               {"PROFILED_API_KEY=" + d.secret_key()}, out, err);
    // Interrupted once the job exists (its id is printed).
    std::string printed;
    for (int i = 0; i < 400 && !has(printed, " as job "); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        std::ifstream in(out);
        printed.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    REQUIRE(has(printed, " as job "));
    std::string job_id = printed.substr(printed.find(" as job ") + 8, 36);
    ::kill(pid, SIGINT);
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 130);
    std::ifstream err_in(err);
    std::string said((std::istreambuf_iterator<char>(err_in)), std::istreambuf_iterator<char>());
    CAPTURE(said);
    CHECK(has(said, "job " + job_id + " goes on in the daemon"));
    CHECK(has(said, "profiled jobs watch " + job_id + " --url " + url));

    // The job went on; jobs watch follows it to its end.
    auto watched = run_profiled({"jobs", "watch", job_id, "--url", url, "--key", d.secret_key(), "--poll-interval",
                                 "0.05"});
    INFO("stdout:\n" << watched.out << "stderr:\n" << watched.err);
    CHECK(watched.exit_code == 0);
    CHECK(has(watched.out, "done: 8 rows processed (8 applied, 0 failed)"));
    CHECK(string_field(fetch_job(d, job_id), "status") == "done");

    SECTION("jobs watch refuses an unknown job and a missing --url")
    {
        auto unknown = run_profiled({"jobs", "watch", "00000000-0000-0000-0000-000000000000", "--url", url, "--key",
                                     d.secret_key()});
        CHECK(unknown.exit_code == 1);
        CHECK(has(unknown.err, "404"));
        CHECK(run_profiled({"jobs", "watch", job_id, "--key", d.secret_key()}).exit_code == 2);
    }
}
