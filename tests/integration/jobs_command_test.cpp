// `profiled jobs list`: every project's bulk jobs read straight from the data directory's database.
#include <filesystem>
#include <sstream>
#include <string>

#include <catch2/catch.hpp>

#include "tests/support/bulk_jobs.hpp"
#include "tests/support/test_daemon.hpp"

using namespace profiled::test;

namespace {

// True when text contains needle.
bool has(const std::string& text, const std::string& needle) { return text.find(needle) != std::string::npos; }

// The lines of a command's output.
std::vector<std::string> lines_of(const std::string& text)
{
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        lines.push_back(line);
    return lines;
}

// Uploads NDJSON, waits for the job to end, returns its id.
std::string run_job(const test_daemon& d, const std::string& ndjson, const std::string& key = "")
{
    auto r = upload_ndjson(d, "users", ndjson, key);
    REQUIRE(r.status == 202);
    std::string id = string_field(r.json().as_object(), "job_id");
    wait_for_job_end(d, id, 30000, key);
    return id;
}

} // namespace

TEST_CASE("jobs list shows every project's jobs newest first, filtered by status and limited",
          "[jobs][cli][integration]")
{
    test_daemon d({"--rows-per-minute", "0"});
    std::string acme_key = create_key(d.data_dir(), "acme", "secret");
    std::string done_job = run_job(d, user_rows(3));
    std::string failed_job = run_job(d, "{\"user_id\":5}\n");
    std::string acme_job = run_job(d, user_rows(2, 10) + "{\"nope\":1}\n", acme_key);

    SECTION("all jobs")
    {
        auto r = run_profiled({"jobs", "list", "--data-dir", d.data_dir()});
        INFO(r.out << r.err);
        CHECK(r.exit_code == 0);
        auto lines = lines_of(r.out);
        REQUIRE(lines.size() == 4);
        for (const char* column : {"JOB_ID", "PROJECT", "TYPE", "STATUS", "PROCESSED", "FAILED", "SUBMITTED"})
            CHECK(has(lines[0], column));
        CHECK(lines[1].rfind(acme_job, 0) == 0);
        CHECK(has(lines[1], "acme"));
        CHECK(has(lines[1], "done"));
        CHECK(has(lines[1], " 3/3 "));
        CHECK(lines[2].rfind(failed_job, 0) == 0);
        CHECK(has(lines[2], "default"));
        CHECK(has(lines[2], "failed"));
        CHECK(has(lines[2], " 1/1 "));
        CHECK(lines[3].rfind(done_job, 0) == 0);
        CHECK(has(lines[3], "users"));
        CHECK(has(lines[3], " 3/3 "));
    }
    SECTION("--status and --limit")
    {
        auto failed = lines_of(run_profiled({"jobs", "list", "--data-dir", d.data_dir(), "--status", "failed"}).out);
        REQUIRE(failed.size() == 2);
        CHECK(failed[1].rfind(failed_job, 0) == 0);
        auto done = lines_of(run_profiled({"jobs", "list", "--data-dir", d.data_dir(), "--status", "done"}).out);
        REQUIRE(done.size() == 3);
        CHECK(done[1].rfind(acme_job, 0) == 0);
        CHECK(done[2].rfind(done_job, 0) == 0);
        auto newest = lines_of(run_profiled({"jobs", "list", "--data-dir", d.data_dir(), "--limit", "1"}).out);
        REQUIRE(newest.size() == 2);
        CHECK(newest[1].rfind(acme_job, 0) == 0);
        auto none = lines_of(run_profiled({"jobs", "list", "--data-dir", d.data_dir(), "--status", "running"}).out);
        CHECK(none.size() == 1);
    }
    SECTION("the data directory from PROFILED_DATA_DIR")
    {
        auto r = run_profiled({"jobs", "list"}, {"PROFILED_DATA_DIR=" + d.data_dir()});
        CHECK(r.exit_code == 0);
        CHECK(lines_of(r.out).size() == 4);
    }
}

// SQLite only: a data directory without profiled.db (the usage errors it also checks touch no database).
TEST_CASE("jobs list refuses bad arguments and a directory without a database", "[jobs][cli][sqlite_only][integration]")
{
    temp_dir empty;
    SECTION("no database: exit 1, and none is created")
    {
        auto r = run_profiled({"jobs", "list", "--data-dir", empty.path()});
        CHECK(r.exit_code == 1);
        CHECK(has(r.err, "no database"));
        CHECK_FALSE(std::filesystem::exists(empty.path() + "/profiled.db"));
    }
    SECTION("usage errors: exit 2")
    {
        CHECK(run_profiled({"jobs", "list", "--data-dir", empty.path(), "--status", "finished"}).exit_code == 2);
        CHECK(run_profiled({"jobs", "list", "--data-dir", empty.path(), "--limit", "0"}).exit_code == 2);
        CHECK(run_profiled({"jobs", "list", "--colour"}).exit_code == 2);
        auto none = run_profiled({"jobs"});
        CHECK(none.exit_code == 2);
        CHECK(has(none.err, "Usage: profiled jobs list"));
        auto unknown = run_profiled({"jobs", "purge"});
        CHECK(unknown.exit_code == 2);
        CHECK(has(unknown.err, "unknown action 'purge'"));
    }
}

TEST_CASE("jobs --help and jobs list --help explain the command", "[jobs][cli][integration]")
{
    auto top = run_profiled({"jobs", "--help"});
    CHECK(top.exit_code == 0);
    CHECK(has(top.out, "Usage: profiled jobs list"));
    CHECK(top.err.empty());
    auto list = run_profiled({"jobs", "list", "--help"});
    CHECK(list.exit_code == 0);
    for (const char* text : {"--data-dir DIR", "--status STATUS", "--limit N", "queued,", "done or failed",
                             "PROFILED_DATA_DIR", "newest first"})
        CHECK(has(list.out, text));
    CHECK_FALSE(has(list.out, " arg "));
}
