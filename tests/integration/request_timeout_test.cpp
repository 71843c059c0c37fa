// The per-request deadline (--request-timeout) under the real daemon: a write the database cannot start in time
// is refused 503 store_timeout and not applied; reads, health and later writes go on.
#include <chrono>
#include <future>
#include <string>
#include <thread>

#include <catch2/catch.hpp>

#include "tests/support/api_checks.hpp"
#include "tests/support/engine_database.hpp"
#include "tests/support/test_daemon.hpp"

using namespace profiled::test;
using namespace std::chrono_literals;

TEST_CASE("a write the locked database cannot start within --request-timeout gets 503 store_timeout, not applied",
          "[timeout][database][integration]")
{
    test_daemon d({"--request-timeout", "1"});
    REQUIRE(d.identify(R"({"user_id":"before-lock","metadata":{"v":1}})").status == 202);
    std::future<http_reply> first, second;
    {
        // Another process (here, another connection) takes the write lock and holds it for longer than the timeout
        // (and shorter than the store's busy timeout).
        write_lock other(d.data_dir());
        auto locked_at = std::chrono::steady_clock::now();

        // The first write is taken into a group at once, which waits for the lock: it is waited for.
        first = std::async(std::launch::async,
                           [&d] { return d.identify(R"({"user_id":"in-group","metadata":{"v":2}})"); });
        std::this_thread::sleep_for(300ms);
        // The second waits behind that group, past its deadline.
        second = std::async(std::launch::async,
                            [&d] { return d.identify(R"({"user_id":"timed-out","metadata":{"v":3}})"); });

        // Reads do not need the write lock (WAL; row versions on PostgreSQL), and the event loop is free.
        std::this_thread::sleep_for(200ms);
        auto u = get_user(d, "before-lock");
        REQUIRE_FALSE(u.empty());
        CHECK(u.at("properties").at("v") == 1);
        CHECK(http_call(d.port(), "GET", "/healthz").status == 200);
        std::this_thread::sleep_until(locked_at + 2500ms);
        CHECK(http_call(d.port(), "GET", "/healthz").status == 200);
        other.release();
    }
    auto in_group = first.get();
    CHECK(in_group.status == 202);
    auto timed_out = second.get();
    check_error(timed_out, 503, "store_timeout");
    CHECK(timed_out.error_message().find("--request-timeout") != std::string::npos);
    CHECK(timed_out.headers.count("retry-after") == 1);

    // The lock is gone: writes work again, and the refused one was not applied.
    CHECK(d.identify(R"({"user_id":"after-lock","metadata":{"v":4}})").status == 202);
    CHECK(get_user(d, "after-lock").at("properties").at("v") == 4);
    CHECK(get_user(d, "in-group").at("properties").at("v") == 2);
    CHECK(get_user(d, "timed-out").empty());
    CHECK(d.stop() == 0);
}
