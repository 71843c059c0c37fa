// Keys are remembered between requests, yet a key revoked by `profiled keys revoke` while the daemon runs is
// refused on the very next request, on every way a key is given, and the project's other keys go on working.
#include <chrono>
#include <string>
#include <thread>

#include <catch2/catch.hpp>

#include "tests/support/api_checks.hpp"
#include "tests/support/test_daemon.hpp"

using namespace profiled::test;
using namespace std::chrono_literals;

namespace {

// A People API identify body carrying key.
std::string identify_body(const std::string& key)
{
    return R"({"apiKey":")" + key + R"(","distinct_id":"p","properties":{"n":1}})";
}

} // namespace

TEST_CASE("a key revoked with profiled keys revoke while the daemon runs is refused on the next request",
          "[security][keys][integration]")
{
    test_daemon d;
    std::string victim = create_key(d.data_dir(), "default", "secret");
    std::string other = d.secret_key();
    REQUIRE(d.identify(R"({"user_id":"u"})").status == 202);

    // Both keys in use, many times over, on a kept-alive connection: whatever the daemon remembers, it remembers.
    http_connection c(d.port());
    header_list victim_auth{{"Authorization", "Token " + victim}};
    header_list other_auth{{"Authorization", "Bearer " + other}};
    for (int i = 0; i < 50; ++i) {
        REQUIRE(c.request("GET", "/v1/users/u", "", victim_auth).status == 200);
        REQUIRE(c.request("GET", "/v1/users/u", "", other_auth).status == 200);
    }
    REQUIRE(people_post(d, "/public/identify", identify_body(victim)).status == 200);

    auto revoke = run_profiled({"keys", "revoke", "--data-dir", d.data_dir(), victim.substr(0, 11)});
    REQUIRE(revoke.exit_code == 0);
    // The very next request is refused: the daemon sees the keys' version move (on PostgreSQL within a second).
    await_key_change([&] { return c.request("GET", "/v1/users/u", "", victim_auth).status; }, 401);
    http_reply r = c.request("GET", "/v1/users/u", "", victim_auth);
    CAPTURE(r.body);
    check_error(r, 401, "unauthorized");
    CHECK(r.error_message().find("revoked") != std::string::npos);

    // From then on it stays refused, in the header and in the body, on new connections too.
    for (int i = 0; i < 20; ++i)
        check_error(c.request("GET", "/v1/users/u", "", victim_auth), 401, "unauthorized");
    check_error(http_call(d.port(), "GET", "/v1/users/u", "", victim_auth), 401, "unauthorized");
    check_error(people_post(d, "/public/identify", identify_body(victim)), 401, "unauthorized");
    // The project's other key was not touched.
    CHECK(c.request("GET", "/v1/users/u", "", other_auth).status == 200);
}

TEST_CASE("a key made with profiled keys create while the daemon runs works on its first request",
          "[security][keys][integration]")
{
    test_daemon d;
    REQUIRE(d.identify(R"({"user_id":"u"})").status == 202);
    http_connection c(d.port());
    header_list auth{{"Authorization", "Token " + d.secret_key()}};
    REQUIRE(c.request("GET", "/v1/users/u", "", auth).status == 200);

    std::string fresh = create_key(d.data_dir(), "default", "secret");
    CHECK(c.request("GET", "/v1/users/u", "", {{"Authorization", "Token " + fresh}}).status == 200);
    // An unknown key is refused however often it is tried, and refusing it does not disturb the known ones.
    std::string unknown = "sk_" + std::string(40, 'Z');
    for (int i = 0; i < 20; ++i)
        check_error(c.request("GET", "/v1/users/u", "", {{"Authorization", "Token " + unknown}}), 401, "unauthorized");
    CHECK(c.request("GET", "/v1/users/u", "", auth).status == 200);
}
