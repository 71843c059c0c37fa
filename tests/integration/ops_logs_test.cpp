// The event log an operator builds monitoring on: JSON lines with level, event, msg and the event's fields,
// stable event names through a daemon's life, and one access-log line per request with --access-log.
#include <catch2/catch.hpp>

#include <algorithm>
#include <csignal>
#include <string>
#include <tuple>
#include <vector>

#include <boost/json/serialize.hpp>

#include "common/ops/clock.hpp"
#include "tests/support/bulk_jobs.hpp"
#include "tests/support/test_daemon.hpp"

using namespace profiled::test;

namespace {

// Every logged line with this event name.
std::vector<boost::json::object> lines_of(const std::vector<boost::json::object>& lines, const std::string& event)
{
    std::vector<boost::json::object> out;
    for (const auto& line : lines)
        if (line.contains("event") && line.at("event") == event.c_str())
            out.push_back(line);
    return out;
}

// The single line with this event name (fails the test unless there is exactly one).
boost::json::object only(const std::vector<boost::json::object>& lines, const std::string& event)
{
    auto found = lines_of(lines, event);
    INFO(event);
    REQUIRE(found.size() == 1);
    return found.front();
}

} // namespace

TEST_CASE("a daemon's life in JSON log lines: ready, jobs, stopping, stopped", "[ops][logs]")
{
    test_daemon d({"--rows-per-minute", "0"});
    auto good = upload_ndjson(d, "users", user_rows(4) + "{\"metadata\":{}}\n");
    REQUIRE(good.status == 202);
    std::string good_id = string_field(good.json().as_object(), "job_id");
    CHECK(string_field(wait_for_job_end(d, good_id), "status") == "done");
    // Every row invalid: the job fails.
    auto bad = upload_ndjson(d, "users", "{\"metadata\":{}}\n{\"user_id\":\"x\",\"metadata\":{\"deep\":{}}}\n");
    REQUIRE(bad.status == 202);
    std::string bad_id = string_field(bad.json().as_object(), "job_id");
    CHECK(string_field(wait_for_job_end(d, bad_id), "status") == "failed");
    REQUIRE(d.stop(SIGTERM) == 0);

    auto lines = d.log_lines();
    // Every line is a JSON object with level, event and msg.
    const std::string text = d.log_text();
    CHECK(lines.size() == static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')));
    for (const auto& line : lines) {
        CAPTURE(boost::json::serialize(line));
        REQUIRE(line.contains("level"));
        CHECK((line.at("level") == "debug" || line.at("level") == "info" || line.at("level") == "warn" ||
               line.at("level") == "error"));
        CHECK(line.at("event").is_string());
        CHECK(line.at("msg").is_string());
        // Stamped by default: RFC 3339 UTC with milliseconds, within the test's run.
        REQUIRE(line.contains("ts"));
        std::string ts(line.at("ts").as_string());
        CHECK(ts.size() == 24);
        CHECK(ts.back() == 'Z');
        auto at = profiled::parse_rfc3339(ts);
        REQUIRE(at);
        CHECK(*at > profiled::now_ms() - 120'000);
        CHECK(*at <= profiled::now_ms());
    }

    auto ready = only(lines, "server.ready");
    CHECK(ready.at("port") == d.port());
    CHECK(ready.at("version") == PROFILED_VERSION);
    CHECK(ready.at("data_dir") == d.data_dir().c_str());

    auto queued = lines_of(lines, "job.queued");
    REQUIRE(queued.size() == 2);
    CHECK(queued[0].at("job_id") == good_id.c_str());
    CHECK(queued[0].at("type") == "users");
    CHECK(queued[0].at("rows") == 5);
    CHECK(queued[0].contains("project_id"));
    // The project's name beside its id.
    CHECK(queued[0].at("project") == "default");

    auto started = lines_of(lines, "job.started");
    REQUIRE(started.size() == 2);
    CHECK(started[0].at("job_id") == good_id.c_str());
    CHECK(started[0].at("total_rows") == 5);

    auto done = only(lines, "job.done");
    CHECK(done.at("job_id") == good_id.c_str());
    CHECK(done.at("project") == "default");
    CHECK(done.at("processed_rows") == 5);
    CHECK(done.at("failed_rows") == 1);
    CHECK(done.at("duration_seconds").is_number());
    CHECK(done.at("rows_per_second").is_number());

    auto failed = only(lines, "job.failed");
    CHECK(failed.at("level") == "warn");
    CHECK(failed.at("job_id") == bad_id.c_str());
    CHECK(failed.at("failed_rows") == 2);
    CHECK(std::string(failed.at("msg").as_string()).find("every row failed") != std::string::npos);

    auto stopping = only(lines, "server.stopping");
    CHECK(stopping.at("signal") == "SIGTERM");
    only(lines, "server.stopped");
    CHECK(lines.back().at("event") == "server.stopped");
    // Without --access-log there is no line per request.
    CHECK(lines_of(lines, "http.request").empty());
}

TEST_CASE("the --access-log flag adds one line per request with method, route, status and duration", "[ops][logs]")
{
    test_daemon d({"--access-log"});
    REQUIRE(d.identify(R"({"user_id":"logged-user"})").status == 202);
    REQUIRE(d.call("GET", "/v1/users/logged-user").status == 200);
    REQUIRE(d.call("PATCH", "/v1/users/logged-user").status == 405);
    REQUIRE(http_call(d.port(), "GET", "/nowhere/at/all").status == 404);
    REQUIRE(d.stop(SIGTERM) == 0);

    auto access = lines_of(d.log_lines(), "http.request");
    REQUIRE(access.size() == 4);
    const std::vector<std::tuple<std::string, std::string, int>> expected{
        {"POST", "/v1/identify", 202},
        {"GET", "/v1/users/{user_id}", 200},
        {"PATCH", "unmatched", 405},
        {"GET", "unmatched", 404},
    };
    for (std::size_t i = 0; i < expected.size(); ++i) {
        CAPTURE(i, boost::json::serialize(access[i]));
        CHECK(access[i].at("method") == std::get<0>(expected[i]).c_str());
        CHECK(access[i].at("route") == std::get<1>(expected[i]).c_str());
        CHECK(access[i].at("status") == std::get<2>(expected[i]));
        CHECK(access[i].at("duration_ms").is_number());
        CHECK(access[i].at("level") == "info");
    }
    // Routes, not raw paths: the user id never reaches the access log.
    CHECK(d.log_text().find("logged-user") == std::string::npos);
}

TEST_CASE("log-timestamps off leaves the ts field out of every line, for journald", "[ops][logs]")
{
    test_daemon d({"--log-timestamps=off"});
    REQUIRE(d.identify(R"({"user_id":"u1","metadata":{}})").status == 202);
    REQUIRE(d.stop(SIGTERM) == 0);
    auto lines = d.log_lines();
    REQUIRE(lines.size() >= 3);
    for (const auto& line : lines) {
        CAPTURE(boost::json::serialize(line));
        CHECK_FALSE(line.contains("ts"));
        CHECK(line.contains("event"));
    }
}
