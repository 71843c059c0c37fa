// Per-key request rate limits per route class, and the cap on queued jobs per project: over a limit the answer
// is 429 with Retry-After in whole seconds and the common error body, and the refused request changes nothing.
#include <catch2/catch.hpp>

#include <fstream>
#include <string>

#include "tests/support/api_checks.hpp"
#include "tests/support/bulk_jobs.hpp"
#include "tests/support/test_daemon.hpp"

using namespace profiled::test;

namespace {

// The daemon with a config file that turns the given limits on.
std::string config_with(const temp_dir& dir, const std::string& text)
{
    std::string path = dir.path() + "/profiled.conf";
    std::ofstream(path) << text;
    return path;
}

// Checks a 429 from a per-key limit: whole-second Retry-After of at least 1 and the common error body.
void check_throttled(const http_reply& r, int max_retry_after)
{
    INFO(r.body);
    check_error(r, 429, "rate_limited");
    REQUIRE(r.headers.count("retry-after") == 1);
    const std::string& retry = r.headers.at("retry-after");
    CHECK(retry.find_first_not_of("0123456789") == std::string::npos);
    CHECK(std::stoi(retry) >= 1);
    CHECK(std::stoi(retry) <= max_retry_after);
}

// The value of an unlabelled metric in a /metrics scrape (-1 when absent).
double metric_value(int port, const std::string& name)
{
    auto body = http_call(port, "GET", "/metrics").body;
    auto at = body.find("\n" + name + " ");
    if (at == std::string::npos)
        return -1;
    return std::stod(body.substr(at + name.size() + 2));
}

} // namespace

TEST_CASE("single writes over the per-key rate get 429 and are not applied", "[ops][ratelimit]")
{
    temp_dir dir;
    // One write a second with a burst of one: the second write in the same second is refused.
    test_daemon d({"--config", config_with(dir, "rate-limit-writes = 1\n")});

    REQUIRE(d.identify(R"({"user_id":"first","metadata":{"n":1}})").status == 202);
    auto refused = d.identify(R"({"user_id":"second","metadata":{"n":2}})");
    check_throttled(refused, 1);
    auto users_refused = d.call("POST", "/v1/users", R"({"user_id":"third"})", {{"Content-Type", "application/json"}});
    check_throttled(users_refused, 1);
    // The People API's key is in the body; the same per-key limit applies once it is read.
    auto people_refused = d.call("POST", "/public/people/set",
                                 R"({"apiKey":")" + d.secret_key() + R"(","distinct_id":"fifth","operations":{"$set":{"n":5}}})",
                                 {{"Content-Type", "application/json"}});
    check_throttled(people_refused, 1);

    // Nothing of the refused requests was stored; reads have their own (unset) limit and still work.
    CHECK(get_user(d, "first").at("properties").at("n") == 1);
    CHECK(get_user(d, "second").empty());
    CHECK(get_user(d, "third").empty());
    CHECK(get_user(d, "fifth").empty());

    // The limit is per key: another key of the same project still gets its write in.
    std::string other = create_key(d.data_dir(), "default", "secret");
    CHECK(http_call(d.port(), "POST", "/v1/identify", R"({"user_id":"fourth"})", identify_headers(other)).status ==
          202);

    // Counted, and logged (sampled) without the key itself.
    CHECK(metric_value(d.port(), "profiled_ratelimit_throttled_total") == 3);
    auto logged = d.wait_for_event("ratelimit.throttled");
    REQUIRE_FALSE(logged.empty());
    CHECK(logged.at("level") == "warn");
    CHECK(logged.contains("key_prefix"));
    CHECK(d.log_text().find(d.secret_key()) == std::string::npos);
}

TEST_CASE("reads and bulk submissions have their own per-key limits", "[ops][ratelimit]")
{
    temp_dir dir;
    test_daemon d({"--config", config_with(dir, "rate-limit-reads = 1\nrate-limit-bulk = 1\n")});

    SECTION("reads: one a second")
    {
        CHECK(d.call("GET", "/v1/background_jobs").status == 200);
        check_throttled(d.call("GET", "/v1/users/nobody"), 1);
        // Writes are not limited here.
        CHECK(d.identify(R"({"user_id":"w1"})").status == 202);
        CHECK(d.identify(R"({"user_id":"w2"})").status == 202);
    }
    SECTION("bulk: one a minute, and the refused upload leaves no job and no spool file")
    {
        auto first = upload_ndjson(d, "users", user_rows(3));
        REQUIRE(first.status == 202);
        auto second = upload_ndjson(d, "users", user_rows(3, 100));
        check_throttled(second, 60);
        std::string job_id = string_field(first.json().as_object(), "job_id");
        CHECK(string_field(wait_for_job_end(d, job_id), "status") == "done");
        CHECK(get_user(d, "u100").empty());
        CHECK(spool_files(d).empty());
    }
}

TEST_CASE("a project over its cap on queued jobs gets 429", "[ops][ratelimit]")
{
    // One row a minute keeps the first job queued or running for the whole test.
    test_daemon d({"--max-queued-jobs", "2", "--rows-per-minute", "1", "--rows-burst", "1"});
    auto a = upload_ndjson(d, "users", user_rows(5));
    auto b = upload_ndjson(d, "companies", R"({"company_id":"c1"})" "\n");
    REQUIRE(a.status == 202);
    REQUIRE(b.status == 202);
    auto c = upload_ndjson(d, "users", user_rows(5, 50));
    INFO(c.body);
    check_error(c, 429, "too_many_queued_jobs");
    REQUIRE(c.headers.count("retry-after") == 1);
    CHECK(c.headers.at("retry-after") == "60");

    // Another project is not affected.
    std::string other = create_key(d.data_dir(), "other", "secret");
    CHECK(upload_ndjson(d, "users", user_rows(2), other).status == 202);
    auto jobs = d.call("GET", "/v1/background_jobs");
    REQUIRE(jobs.status == 200);
    CHECK(jobs.json().at("jobs").as_array().size() == 2);
}
