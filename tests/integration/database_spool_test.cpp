// Uploads spooled into PostgreSQL: a job received by one daemon is run by another once the first is killed, and an
// upload cut off mid-stream (the client gone, or the daemon killed) leaves no piece behind.
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "common/store/postgres/postgres.hpp"
#include "tests/support/api_checks.hpp"
#include "tests/support/bulk_jobs.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/postgres_server.hpp"
#include "tests/support/raw_socket.hpp"
#include "tests/support/test_daemon.hpp"

using namespace profiled::test;
using namespace std::chrono_literals;

namespace {

// A count the database gives.
std::int64_t count_of(const std::string& url, const std::string& sql)
{
    return profiled::pg_connection(url).query(sql).int64(0, 0);
}

// Upload pieces (and uploads without pieces) in the database.
std::int64_t spooled(const std::string& url)
{
    return count_of(url, "SELECT count(*) FROM spool_pieces") + count_of(url, "SELECT count(*) FROM spool_uploads");
}

// Waits up to timeout for the condition; whether it held.
template <typename Condition>
bool eventually(Condition condition, std::chrono::milliseconds timeout = 10s)
{
    auto until = std::chrono::steady_clock::now() + timeout;
    while (!condition()) {
        if (std::chrono::steady_clock::now() > until)
            return false;
        std::this_thread::sleep_for(20ms);
    }
    return true;
}

// A daemon on the database, with a short job lease so that a killed daemon's job moves on within seconds.
std::unique_ptr<test_daemon> daemon_on(const std::string& url, std::vector<std::string> args)
{
    daemon_options options;
    options.database = url;
    args.insert(args.end(), {"--job-lease", "2"});
    return std::make_unique<test_daemon>(std::move(args), options);
}

// The NDJSON of n users "mv<i>" with about 5 KB of metadata each, row i invalid (metadata not primitive) when
// i % 50 == 7.
std::string padded_users(int n)
{
    std::string out;
    for (int i = 0; i < n; ++i) {
        if (i % 50 == 7)
            out += R"({"user_id":"bad)" + std::to_string(i) +
                   R"(","metadata":{"list":[1,2]}})"
                   "\n";
        else
            out += R"({"user_id":"mv)" + std::to_string(i) + R"(","metadata":{"n":)" + std::to_string(i) +
                   R"(,"pad":")" + std::string(5000, 'p') + "\"}}\n";
    }
    return out;
}

} // namespace

TEST_CASE("a job uploaded to one daemon on PostgreSQL is finished by another after the first is killed",
          "[integration][database][spool]")
{
    std::string url = fresh_postgres_url();
    // 50 rows a second: the job is under way, not done, when its daemon is killed.
    auto a = daemon_on(url, {"--rows-per-minute", "3000", "--rows-burst", "50"});
    const int rows = 500; // about 2.5 MB: three pieces
    auto up = upload_ndjson(*a, "users", padded_users(rows));
    REQUIRE(up.status == 202);
    std::string job_id = string_field(up.json().as_object(), "job_id");
    std::int64_t before_kill = 0;
    REQUIRE(eventually([&] {
        before_kill = int_field(fetch_job(*a, job_id), "processed_rows");
        return before_kill >= 130; // into the upload's second piece
    }));
    a->stop(9);
    REQUIRE(before_kill < rows);

    // Another daemon, its own data directory, the same database: it never saw the upload.
    auto b = daemon_on(url, {"--rows-per-minute", "0"});
    auto job = wait_for_job_end(*b, job_id, 30000);
    CHECK(string_field(job, "status") == "done");
    CHECK(int_field(job, "total_rows") == rows);
    CHECK(int_field(job, "processed_rows") == rows);
    CHECK(int_field(job, "failed_rows") == 10);
    auto errors = b->call("GET", "/v1/background_jobs/" + job_id + "/errors?limit=100");
    REQUIRE(errors.status == 200);
    auto listed = errors.json().as_object().at("errors").as_array();
    REQUIRE(listed.size() == 10);
    for (std::size_t i = 0; i < listed.size(); ++i)
        CHECK(listed[i].as_object().at("line").as_int64() == static_cast<std::int64_t>(i * 50 + 8));
    for (int i : {0, 129, 131, 260, 499}) {
        CAPTURE(i);
        auto user = get_user(*b, "mv" + std::to_string(i));
        REQUIRE_FALSE(user.empty());
        CHECK(user.at("properties").at("n").as_int64() == i);
    }
    CHECK(get_user(*b, "bad7").empty());
    // The job's end took its upload with it.
    CHECK(spooled(url) == 0);
}

TEST_CASE("an upload to a daemon on PostgreSQL cut off mid-stream leaves no piece in the database",
          "[integration][database][spool]")
{
    std::string url = fresh_postgres_url();
    auto d = daemon_on(url, {});
    std::string body = padded_users(600); // about 3 MB, of which 2 MB are sent
    auto socket = std::make_unique<raw_socket>(d->port());
    REQUIRE(socket->send("POST /v1/users/bulk_identify HTTP/1.1\r\nHost: t\r\nAuthorization: Token " + d->secret_key() +
                         "\r\nContent-Type: application/x-ndjson\r\nContent-Length: " + std::to_string(body.size()) +
                         "\r\n\r\n"));
    REQUIRE(socket->send(std::string_view(body).substr(0, 2 * 1024 * 1024)));
    REQUIRE(eventually([&] { return count_of(url, "SELECT count(*) FROM spool_pieces") >= 1; }));

    SECTION("the client went away")
    {
        socket.reset();
        CHECK(eventually([&] { return spooled(url) == 0; }));
    }
    SECTION("the daemon was killed, and started again")
    {
        d->stop(9);
        socket.reset();
        CHECK(spooled(url) > 0);
        d->start();
        CHECK(eventually([&] { return spooled(url) == 0; }));
    }
    CHECK(count_of(url, "SELECT count(*) FROM jobs") == 0);
}
