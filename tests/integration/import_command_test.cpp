// `profiled import FILE --url URL --key KEY [--type users|companies]` against a real daemon.
#include <fstream>
#include <string>

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
    CHECK(has(r.out, "profiled import FILE --url URL --key KEY"));
    CHECK(has(r.out, "--type"));
}
