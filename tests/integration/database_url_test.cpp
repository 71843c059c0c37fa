// The daemon and its commands given --database: the same API on a PostgreSQL database (the throwaway server of
// this test process), and a URL whose password shows nowhere.
#include <filesystem>
#include <string>

#include <catch2/catch.hpp>

#include "tests/support/api_checks.hpp"
#include "tests/support/bulk_jobs.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/postgres_server.hpp"
#include "tests/support/test_daemon.hpp"

using namespace profiled::test;

namespace {

// The URL with a password in its user info (the throwaway server trusts its socket, so any password connects).
std::string with_password(std::string url, const std::string& password)
{
    return url.replace(url.find("postgres@"), 9, "postgres:" + password + "@");
}

// The job id of a 202 to a bulk upload.
std::string job_id_of(const http_reply& r) { return string_field(r.json().as_object(), "job_id"); }

} // namespace

TEST_CASE("a daemon given --database serves from that PostgreSQL database, its password in no log or metric",
          "[integration][database][postgres]")
{
    std::string url = with_password(fresh_postgres_url(), "hunter2-secret");
    daemon_options options;
    options.database = url;
    test_daemon d({"--rows-per-minute", "0"}, options);

    REQUIRE(d.identify(R"({"user_id":"pg-user","metadata":{"plan":"pro","gone":null}})").status == 202);
    auto user = get_user(d, "pg-user");
    REQUIRE_FALSE(user.empty());
    CHECK(user.at("properties").at("plan") == "pro");
    CHECK(user.at("properties").at("gone").is_null());

    auto up = upload_ndjson(d, "users", user_rows(25, 0, "bulk"));
    REQUIRE(up.status == 202);
    auto job = wait_for_job_end(d, job_id_of(up));
    CHECK(string_field(job, "status") == "done");
    CHECK(int_field(job, "processed_rows") == 25);
    CHECK(get_user(d, "u24").at("properties").at("tag") == "bulk");

    // Nothing of it in the data directory: the rows are in PostgreSQL, where the jobs command finds them too.
    CHECK_FALSE(std::filesystem::exists(d.data_dir() + "/profiled.db"));
    auto listed = run_profiled({"jobs", "list", "--data-dir", d.data_dir(), "--database", url});
    CHECK(listed.exit_code == 0);
    CHECK(listed.out.find(job_id_of(up)) != std::string::npos);

    auto metrics = http_call(d.port(), "GET", "/metrics");
    CHECK(metrics.status == 200);
    CHECK(metrics.body.find("hunter2-secret") == std::string::npos);
    CHECK(d.stop() == 0);
    CHECK(d.log_text().find("hunter2-secret") == std::string::npos);
}

TEST_CASE("a database URL that cannot be used is refused at start, its password not shown",
          "[integration][database][postgres]")
{
    temp_dir dir;
    SECTION("a URL of a database profiled does not speak")
    {
        auto r = run_profiled({"serve", "--listen", "127.0.0.1:0", "--data-dir", dir.path(), "--database",
                               "mysql://app:hunter2-secret@db.example/profiled"});
        CHECK(r.exit_code != 0);
        CHECK(r.err.find("postgresql://") != std::string::npos);
        CHECK(r.err.find("hunter2-secret") == std::string::npos);
    }
    SECTION("a PostgreSQL database that is not there, for serve and for keys")
    {
        std::string url = with_password(postgres_server::instance().url_of("no_such_database"), "hunter2-secret");
        auto served = run_profiled({"serve", "--listen", "127.0.0.1:0", "--data-dir", dir.path(), "--database", url});
        CHECK(served.exit_code != 0);
        CHECK(served.err.find("no_such_database") != std::string::npos);
        CHECK(served.err.find("hunter2-secret") == std::string::npos);
        auto keys = run_profiled({"keys", "list", "--data-dir", dir.path(), "--database", url});
        CHECK(keys.exit_code == 1);
        CHECK(keys.err.find("no_such_database") != std::string::npos);
        CHECK(keys.err.find("hunter2-secret") == std::string::npos);
    }
}
