// Concurrent writers, restarts and crashes: every acknowledged write is there afterwards.
#include <csignal>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "tests/support/api_checks.hpp"
#include "tests/support/test_daemon.hpp"

using namespace profiled::test;

TEST_CASE("concurrent writers to one user: the profile holds every writer's last accepted value",
          "[identify][concurrency][integration]")
{
    test_daemon d;
    constexpr int writers = 6;
    constexpr int writes_each = 40;
    // Per writer: how many writes were answered 202, and the first other status seen.
    std::vector<int> accepted(writers, 0);
    std::vector<int> unexpected(writers, 0);
    std::vector<std::thread> threads;
    for (int t = 0; t < writers; ++t) {
        threads.emplace_back([&, t] {
            // Each writer on its own keep-alive connection, its writes strictly one after another.
            http_connection c(d.port());
            auto headers = identify_headers(d.secret_key());
            for (int i = 0; i < writes_each; ++i) {
                std::string body = "{\"user_id\":\"shared\",\"metadata\":{\"writer_" + std::to_string(t) +
                                   "\":" + std::to_string(i) + ",\"last_writer\":" + std::to_string(t) + "}}";
                auto r = c.request("POST", "/v1/identify", body, headers);
                if (r.status == 202)
                    ++accepted[t];
                else if (!unexpected[t])
                    unexpected[t] = r.status;
            }
        });
    }
    for (auto& th : threads)
        th.join();

    for (int t = 0; t < writers; ++t) {
        CAPTURE(t);
        CHECK(unexpected[t] == 0);
        CHECK(accepted[t] == writes_each);
    }
    auto u = get_user(d, "shared");
    REQUIRE_FALSE(u.empty());
    const auto& props = u.at("properties").as_object();
    for (int t = 0; t < writers; ++t) {
        CAPTURE(t);
        std::string key = "writer_" + std::to_string(t);
        REQUIRE(props.contains(key));
        CHECK(props.at(key) == writes_each - 1);
    }
    CHECK(props.at("last_writer").as_int64() >= 0);
    CHECK(props.at("last_writer").as_int64() < writers);
    CHECK(props.size() == writers + 1);
}

TEST_CASE("concurrent writers to many users create each user exactly once", "[identify][concurrency][integration]")
{
    test_daemon d;
    constexpr int writers = 4;
    constexpr int users_each = 25;
    std::vector<int> accepted(writers, 0);
    std::vector<std::thread> threads;
    for (int t = 0; t < writers; ++t) {
        threads.emplace_back([&, t] {
            http_connection c(d.port());
            auto headers = identify_headers(d.secret_key());
            for (int i = 0; i < users_each; ++i) {
                // Every writer touches every user: all of them race to create it.
                std::string body = "{\"user_id\":\"user_" + std::to_string(i) + "\",\"metadata\":{\"w" +
                                   std::to_string(t) + "\":true}}";
                accepted[t] += c.request("POST", "/v1/identify", body, headers).status == 202;
            }
        });
    }
    for (auto& th : threads)
        th.join();
    for (int t = 0; t < writers; ++t)
        CHECK(accepted[t] == users_each);
    for (int i = 0; i < users_each; ++i) {
        CAPTURE(i);
        auto u = get_user(d, "user_" + std::to_string(i));
        REQUIRE_FALSE(u.empty());
        CHECK(u.at("properties").as_object().size() == writers);
    }
}

TEST_CASE("a restart finds every acknowledged write", "[durability][integration]")
{
    test_daemon d;
    constexpr int users = 30;
    std::vector<std::string> ids_before;
    for (int i = 0; i < users; ++i) {
        REQUIRE(d.identify("{\"user_id\":\"user_" + std::to_string(i) + "\",\"metadata\":{\"n\":" +
                           std::to_string(i) + "},\"company\":{\"id\":\"company_" + std::to_string(i % 3) + "\"}}")
                    .status == 202);
    }
    REQUIRE(d.call("POST", "/v1/companies/identify", R"({"company_id":"company_0","metadata":{"tier":"gold"}})")
                .status == 202);
    for (int i = 0; i < users; ++i)
        ids_before.push_back(std::string(get_user(d, "user_" + std::to_string(i)).at("id").as_string()));

    CHECK(d.stop(SIGTERM) == 0);
    d.start();

    for (int i = 0; i < users; ++i) {
        CAPTURE(i);
        auto u = get_user(d, "user_" + std::to_string(i));
        REQUIRE_FALSE(u.empty());
        CHECK(u.at("properties").at("n") == i);
        CHECK(u.at("company_id") == ("company_" + std::to_string(i % 3)).c_str());
        CHECK(u.at("id") == ids_before[static_cast<std::size_t>(i)].c_str());
    }
    CHECK(d.call("GET", "/v1/companies/company_0").json().at("properties").at("tier") == "gold");

    SECTION("and keeps merging into the restored profiles")
    {
        REQUIRE(d.identify(R"({"user_id":"user_1","metadata":{"after_restart":true}})").status == 202);
        auto u = get_user(d, "user_1");
        CHECK(u.at("properties") == boost::json::object{{"n", 1}, {"after_restart", true}});
        CHECK(u.at("id") == ids_before[1].c_str());
    }
}

TEST_CASE("kill -9 right after a 202 loses nothing", "[durability][integration]")
{
    test_daemon d;
    REQUIRE(d.identify(R"({"user_id":"early","metadata":{"v":1}})").status == 202);
    // The last write goes out, and the process dies the moment its 202 is read.
    REQUIRE(d.identify(R"({"user_id":"crash_me","metadata":{"plan":"pro"},"company":{"id":"acme","seats":3}})")
                .status == 202);
    CHECK(d.stop(SIGKILL) == 128 + SIGKILL);

    d.start();
    auto u = get_user(d, "crash_me");
    REQUIRE_FALSE(u.empty());
    CHECK(u.at("properties") == boost::json::object{{"plan", "pro"}});
    CHECK(u.at("company_id") == "acme");
    CHECK(d.call("GET", "/v1/companies/acme").json().at("properties") == boost::json::object{{"seats", 3}});
    CHECK(get_user(d, "early").at("properties").at("v") == 1);
}

TEST_CASE("SIGTERM stops the daemon cleanly", "[durability][integration]")
{
    test_daemon d;
    CHECK(d.stop(SIGTERM) == 0);
    CHECK_FALSE(d.wait_for_event("server.stopping", 0).empty());
    CHECK_FALSE(d.wait_for_event("server.stopped", 0).empty());
}
