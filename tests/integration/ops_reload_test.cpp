// SIGHUP (systemctl reload): the config file is read again and its rate limits and log settings applied
// without a restart; a bad file is logged and changes nothing.
#include <catch2/catch.hpp>

#include <chrono>
#include <csignal>
#include <fstream>
#include <string>
#include <thread>

#include "tests/support/bulk_jobs.hpp"
#include "tests/support/test_daemon.hpp"

using namespace profiled::test;
using namespace std::chrono_literals;

namespace {

// Replaces the config file's contents.
void write_config(const std::string& path, const std::string& text)
{
    std::ofstream out(path, std::ios::trunc);
    out << text;
}

// Waits until the daemon's stderr contains text at or after offset; the position just after it, or npos.
std::size_t wait_for_text(const test_daemon& d, const std::string& text, std::size_t offset = 0)
{
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < deadline) {
        auto at = d.log_text().find(text, offset);
        if (at != std::string::npos)
            return at + text.size();
        std::this_thread::sleep_for(20ms);
    }
    return std::string::npos;
}

} // namespace

TEST_CASE("SIGHUP applies the config file's row rate and log settings, and a bad file keeps the old ones",
          "[ops][reload]")
{
    temp_dir config_dir;
    const std::string config = config_dir.path() + "/profiled.conf";
    // One row a second: a 20-row job would take 20 s at this rate.
    write_config(config, "log-format = json\nrows-per-minute = 60\nrows-burst = 1\n");
    test_daemon d({"--config", config}, daemon_options{{}, false});

    auto submitted = upload_ndjson(d, "users", user_rows(20));
    REQUIRE(submitted.status == 202);
    std::string job_id = string_field(submitted.json().as_object(), "job_id");
    CHECK(d.log_text().find("http.request") == std::string::npos); // no access log yet

    // idle-timeout only takes effect on a restart: the event says so.
    write_config(config, "log-format = logfmt\nrows-per-minute = 0\naccess-log = true\nidle-timeout = 61\n");
    REQUIRE(::kill(d.pid(), SIGHUP) == 0);
    // Lines are logfmt from now on, and the event names the new rate.
    std::size_t reloaded = wait_for_text(d, "level=info event=config.reloaded");
    REQUIRE(reloaded != std::string::npos);
    std::string reload_line = d.log_text().substr(reloaded, d.log_text().find('\n', reloaded) - reloaded);
    CHECK(reload_line.find(" rows_per_minute=0") != std::string::npos);
    CHECK(reload_line.find(" access_log=true") != std::string::npos);
    CHECK(reload_line.find(" restart_needed=idle-timeout") != std::string::npos);

    // Unlimited now: the job finishes at once instead of in 20 s.
    auto end = wait_for_job_end(d, job_id, 5000);
    CHECK(string_field(end, "status") == "done");
    CHECK(int_field(end, "processed_rows") == 20);
    // The access log is on, in logfmt, with the route pattern rather than the job id.
    std::size_t access = wait_for_text(d, "event=http.request", reloaded);
    REQUIRE(access != std::string::npos);
    std::string access_line = d.log_text().substr(access, d.log_text().find('\n', access) - access);
    CHECK(access_line.find("route=/v1/background_jobs/{job_id}") != std::string::npos);
    CHECK(access_line.find("status=200") != std::string::npos);

    SECTION("a bad config file is logged and every old setting stays")
    {
        // Valid lines next to an invalid one: nothing of it may be applied, not even the valid lines.
        write_config(config, "log-format = json\naccess-log = false\nrows-per-minute = -5\n");
        REQUIRE(::kill(d.pid(), SIGHUP) == 0);
        std::size_t failed = wait_for_text(d, "level=error event=config.reload_failed");
        REQUIRE(failed != std::string::npos);
        CHECK(d.log_text().find("rows-per-minute must be 0 (unlimited) or more", failed) != std::string::npos);

        // Still serving, still logfmt with the access log on.
        CHECK(http_call(d.port(), "GET", "/healthz").status == 200);
        CHECK(wait_for_text(d, "method=GET route=/healthz status=200", failed) != std::string::npos);
        CHECK(d.log_text().find("{\"level\"", failed) == std::string::npos);
    }

    SECTION("an unreadable or unknown-key config file is refused the same way")
    {
        write_config(config, "log-format = json\nno-such-setting = 1\n");
        REQUIRE(::kill(d.pid(), SIGHUP) == 0);
        std::size_t failed = wait_for_text(d, "event=config.reload_failed");
        REQUIRE(failed != std::string::npos);
        CHECK(http_call(d.port(), "GET", "/readyz").status == 200);
        CHECK(d.log_text().find("{\"level\"", failed) == std::string::npos);
        CHECK(d.stop(SIGTERM) == 0);
        CHECK(d.log_text().find("event=server.stopped", failed) != std::string::npos);
    }
}

TEST_CASE("SIGHUP turns per-key request rate limits on without a restart", "[ops][reload][ratelimit]")
{
    temp_dir config_dir;
    const std::string config = config_dir.path() + "/profiled.conf";
    write_config(config, "rate-limit-reads = 0\n");
    test_daemon d({"--config", config});
    for (int i = 0; i < 5; ++i)
        REQUIRE(d.call("GET", "/v1/background_jobs").status == 200);

    write_config(config, "rate-limit-reads = 0.5\n"); // a burst of 1, then one read every 2 s
    REQUIRE(::kill(d.pid(), SIGHUP) == 0);
    REQUIRE_FALSE(d.wait_for_event("config.reloaded").empty());
    CHECK(d.call("GET", "/v1/background_jobs").status == 200);
    auto throttled = d.call("GET", "/v1/background_jobs");
    CHECK(throttled.status == 429);
    CHECK(throttled.headers["retry-after"] == "2");
}
