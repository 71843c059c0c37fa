// A PostgreSQL restart under load: while the server is down the daemon answers 503 database_unavailable with
// Retry-After (never a 500, never a hang) and /readyz fails; it reconnects by itself, and afterwards every
// acknowledged write is there exactly once and the bulk job that was running ends done with exact counts.
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "tests/support/api_checks.hpp"
#include "tests/support/bulk_jobs.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/postgres_query.hpp"
#include "tests/support/postgres_server.hpp"
#include "tests/support/test_daemon.hpp"

using namespace profiled::test;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

namespace {

// A users file of `unique` rows u0.. (tag "first"), then u0..u{repeats-1} again (tag "second"), with every
// `invalid_every`-th row of the first pass replaced by one without a user_id: replaying an old chunk after a newer
// one would leave "first" where "second" belongs.
std::string outage_rows(int unique, int repeats, int invalid_every)
{
    std::string out;
    for (int i = 0; i < unique; ++i) {
        if (i % invalid_every == invalid_every - 1)
            out += "{\"metadata\":{\"n\":" + std::to_string(i) + "}}\n";
        else
            out += "{\"user_id\":\"u" + std::to_string(i) + "\",\"metadata\":{\"tag\":\"first\"}}\n";
    }
    for (int i = 0; i < repeats; ++i)
        out += "{\"user_id\":\"u" + std::to_string(i) + "\",\"metadata\":{\"tag\":\"second\"}}\n";
    return out;
}

// What one identify of the load got.
struct identify_answer {
    int status = 0;
    std::string code;
    bool retry_after = false;
};

// Identifies live-0, live-1, ... one after the other on a kept-alive connection until stopped, remembering
// every answer.
class identify_load {
public:
    explicit identify_load(const test_daemon& d) : daemon_(d), thread_([this] { run(); }) {}
    ~identify_load() { stop(); }

    void stop()
    {
        stopping_ = true;
        if (thread_.joinable())
            thread_.join();
    }
    // How many answers had this status so far.
    int count(int status)
    {
        std::lock_guard lock(mutex_);
        int n = 0;
        for (const auto& [id, a] : answers_)
            n += a.status == status;
        return n;
    }
    // Every answer by user id (once stopped).
    std::map<std::string, identify_answer> answers()
    {
        std::lock_guard lock(mutex_);
        return answers_;
    }

private:
    void run()
    {
        std::unique_ptr<http_connection> c;
        auto headers = identify_headers(daemon_.secret_key());
        headers.emplace_back("Content-Type", "application/json");
        for (int i = 0; !stopping_; ++i) {
            std::string id = "live-" + std::to_string(i);
            identify_answer a;
            try {
                if (!c)
                    c = std::make_unique<http_connection>(daemon_.port());
                auto r = c->request("POST", "/v1/identify", R"({"user_id":")" + id + R"(","metadata":{"i":1}})",
                                    headers);
                a.status = r.status;
                if (r.status != 202)
                    a.code = r.error_code();
                a.retry_after = r.headers.count("retry-after") != 0;
                if (r.status == 0)
                    c.reset();
            } catch (const std::exception&) {
                c.reset();
            }
            {
                std::lock_guard lock(mutex_);
                answers_[id] = a;
            }
            std::this_thread::sleep_for(5ms);
        }
    }

    const test_daemon& daemon_;
    std::mutex mutex_;
    std::map<std::string, identify_answer> answers_;
    std::atomic<bool> stopping_{false};
    std::thread thread_;
};

// Polls until GET path answers status, at most timeout; whether it did.
bool wait_for_status(const test_daemon& d, const std::string& path, int status, std::chrono::milliseconds timeout)
{
    auto deadline = steady::now() + timeout;
    do {
        if (http_call(d.port(), "GET", path).status == status)
            return true;
        std::this_thread::sleep_for(20ms);
    } while (steady::now() < deadline);
    return false;
}

} // namespace

TEST_CASE("a PostgreSQL restart under load: 503s during the outage, then everything completes exactly",
          "[integration][postgres][outage]")
{
    auto& server = postgres_server::instance();
    std::string url = server.fresh_database_url();
    daemon_options options;
    options.database = url;
    // 200 rows a second: the job below runs for about 4 s besides the outage.
    test_daemon d({"--rows-per-minute", "12000", "--rows-burst", "50"}, options);
    REQUIRE(d.identify(R"({"user_id":"before"})").status == 202);

    constexpr int unique = 600, repeats = 200, invalid_every = 50;
    constexpr int total = unique + repeats, invalid = unique / invalid_every;
    auto up = upload_ndjson(d, "users", outage_rows(unique, repeats, invalid_every));
    REQUIRE(up.status == 202);
    std::string job_id = string_field(up.json().as_object(), "job_id");
    std::string job_row = "SELECT processed_rows FROM jobs WHERE job_id = '" + job_id + "'";

    identify_load load(d);
    auto deadline = steady::now() + 10s;
    while (query_number(url, job_row) < 100 && steady::now() < deadline)
        std::this_thread::sleep_for(20ms);
    REQUIRE(query_number(url, job_row) >= 100);
    REQUIRE(query_number(url, job_row) < total);

    server.stop_for_outage();
    auto down_at = steady::now();
    {
        // Noticed without a request needing the database, and said so.
        CHECK(wait_for_status(d, "/readyz", 503, 2s));
        CHECK(http_call(d.port(), "GET", "/healthz").status == 200);
        // Reads as well as writes: 503 database_unavailable with Retry-After, with the key known from before.
        auto read = d.call("GET", "/v1/users/before");
        check_error(read, 503, "database_unavailable");
        CHECK(read.headers.count("retry-after") == 1);
        auto write = d.identify(R"({"user_id":"during"})");
        check_error(write, 503, "database_unavailable");
        CHECK(write.headers.count("retry-after") == 1);
        auto ready = http_call(d.port(), "GET", "/readyz");
        CHECK(ready.status == 503);
        CHECK(ready.headers.count("retry-after") == 1);
        // Monitoring goes on, and says so.
        auto metrics = http_call(d.port(), "GET", "/metrics");
        CHECK(metrics.status == 200);
        CHECK(metrics.body.find("\nprofiled_database_reachable 0\n") != std::string::npos);
    }
    std::this_thread::sleep_for(4s - (steady::now() - down_at));
    server.start_after_outage();

    // Back by itself: ready again, and the load's writes acknowledged again.
    CHECK(wait_for_status(d, "/readyz", 200, 5s));
    int accepted_before = load.count(202);
    deadline = steady::now() + 10s;
    while (load.count(202) < accepted_before + 20 && steady::now() < deadline)
        std::this_thread::sleep_for(20ms);
    load.stop();
    CHECK(http_call(d.port(), "GET", "/metrics").body.find("\nprofiled_database_reachable 1\n") != std::string::npos);

    auto job = wait_for_job_end(d, job_id, 60000);
    CHECK(string_field(job, "status") == "done");
    CHECK(int_field(job, "total_rows") == total);
    CHECK(int_field(job, "processed_rows") == total);
    CHECK(int_field(job, "failed_rows") == invalid);
    CHECK(query_number(url, "SELECT count(*) FROM job_errors") == invalid);

    // Each bulk row applied once, in order: the repeated users hold their second row, the others their first.
    auto bulk = query_rows(url, "SELECT user_id, properties->>'tag' FROM users WHERE user_id LIKE 'u%'");
    // (The first pass's invalid rows among the repeated users are valid the second time.)
    CHECK(bulk.size() == static_cast<std::size_t>(unique - invalid + repeats / invalid_every));
    int second = 0;
    for (const auto& row : bulk) {
        int n = std::stoi(row[0].substr(1));
        CAPTURE(row[0]);
        CHECK(row[1] == (n < repeats ? "second" : "first"));
        second += row[1] == "second";
    }
    CHECK(second == repeats);

    // Every identify was either acknowledged (and is there) or refused as unavailable with Retry-After.
    std::set<std::string> stored;
    for (const auto& row : query_rows(url, "SELECT user_id FROM users WHERE user_id LIKE 'live-%'"))
        stored.insert(row[0]);
    int accepted = 0, refused = 0;
    for (const auto& [id, a] : load.answers()) {
        CAPTURE(id, a.status, a.code);
        if (a.status == 202) {
            ++accepted;
            CHECK(stored.count(id) == 1);
            continue;
        }
        ++refused;
        CHECK(a.status == 503);
        CHECK(a.code == "database_unavailable");
        CHECK(a.retry_after);
    }
    CHECK(accepted > 20);
    CHECK(refused > 0);
    CHECK(query_number(url, "SELECT count(*) - count(DISTINCT user_id) FROM users") == 0);

    // No thread died on the way: the daemon stops cleanly, having said when the database went and came back.
    CHECK(d.stop() == 0);
    CHECK(d.log_text().find("store.unreachable") != std::string::npos);
    CHECK(d.log_text().find("store.reachable") != std::string::npos);
}

TEST_CASE("a daemon stopped while PostgreSQL is down stops cleanly and at once, and comes back with the database",
          "[integration][postgres][outage]")
{
    auto& server = postgres_server::instance();
    std::string url = server.fresh_database_url();
    daemon_options options;
    options.database = url;
    test_daemon d({"--rows-per-minute", "60", "--rows-burst", "1"}, options);
    REQUIRE(d.identify(R"({"user_id":"kept"})").status == 202);
    // A job still running (one row a second) when the server goes.
    REQUIRE(upload_ndjson(d, "users", user_rows(20, 0, "slow")).status == 202);

    server.stop_for_outage();
    CHECK(wait_for_status(d, "/readyz", 503, 2s));
    check_error(d.identify(R"({"user_id":"refused"})"), 503, "database_unavailable");
    auto stopping = steady::now();
    CHECK(d.stop() == 0);
    CHECK(steady::now() - stopping < 5s);

    // Started again while the server is still down: refused with a clear reason, not a hang.
    auto refused = run_profiled({"serve", "--listen", "127.0.0.1:0", "--data-dir", d.data_dir(), "--database", url});
    CHECK(refused.exit_code == 1);
    CHECK(refused.err.find("cannot connect") != std::string::npos);

    server.start_after_outage();
    d.start();
    CHECK(get_user(d, "kept").size() > 0);
    CHECK(get_user(d, "refused").empty());
    CHECK(d.stop() == 0);
}
