// One store, three dialects: a user written through any dialect is the same profile through the others.
#include <string>
#include <tuple>

#include <boost/json/parse.hpp>
#include <catch2/catch.hpp>

#include "tests/support/api_checks.hpp"
#include "tests/support/test_daemon.hpp"

using namespace profiled::test;
namespace json = boost::json;

namespace {

// Writes {"plan":"pro","seats":3} and email x@example.com for user_id through the named dialect.
http_reply write_through(const test_daemon& d, const std::string& dialect, const std::string& user_id)
{
    header_list json_type{{"Content-Type", "application/json"}};
    if (dialect == "identify")
        return d.identify(R"({"user_id":")" + user_id + R"(","metadata":{"plan":"pro","seats":3}})");
    if (dialect == "users")
        return d.call("POST", "/v1/users",
                      R"({"user_id":")" + user_id + R"(","email":"x@example.com","properties":{"plan":"pro","seats":3}})",
                      json_type);
    if (dialect == "people_identify")
        return http_call(d.port(), "POST", "/public/identify",
                         R"({"apiKey":")" + d.public_key() + R"(","distinct_id":")" + user_id +
                             R"(","properties":{"plan":"pro","seats":3,"$email":"x@example.com"}})",
                         json_type);
    return http_call(d.port(), "POST", "/public/people/set",
                     R"({"apiKey":")" + d.secret_key() + R"(","distinct_id":")" + user_id +
                         R"(","operations":{"$set":{"plan":"pro","$email":"x@example.com"},"$add":{"seats":3}}})",
                     json_type);
}

} // namespace

TEST_CASE("a user written through one dialect is read and updated through the others", "[dialects][integration]")
{
    test_daemon d;
    std::string dialect = GENERATE(as<std::string>(), "identify", "users", "people_identify", "people_set");
    CAPTURE(dialect);
    auto written = write_through(d, dialect, "u1");
    REQUIRE(written.status / 100 == 2);

    auto user = get_user(d, "u1");
    REQUIRE_FALSE(user.empty());
    CHECK(user.at("properties").at("plan") == "pro");
    CHECK(user.at("properties").at("seats") == 3);
    if (dialect != "identify")
        CHECK(user.at("email") == "x@example.com");
    std::string id(user.at("id").as_string());

    SECTION("the Users API finds the same profile and says updated")
    {
        auto r = d.call("POST", "/v1/users", R"({"user_id":"u1","origin":{"channel":"crm"}})");
        REQUIRE(r.status == 200);
        CHECK(r.json().at("user_id") == id.c_str());
        CHECK(r.json().at("message") == "User updated successfully");
    }
    SECTION("the People API operates on the stored properties")
    {
        auto r = http_call(d.port(), "POST", "/public/people/set",
                           R"({"apiKey":")" + d.secret_key() +
                               R"(","distinct_id":"u1","operations":{"$add":{"seats":2},"$set_once":{"plan":"free"}}})");
        REQUIRE(r.status == 200);
        CHECK(get_user(d, "u1").at("properties").at("seats") == 5);
        CHECK(get_user(d, "u1").at("properties").at("plan") == "pro");
    }
    SECTION("identify merges its metadata into the same properties")
    {
        REQUIRE(d.identify(R"({"user_id":"u1","metadata":{"plan":"enterprise"}})").status == 202);
        CHECK(get_user(d, "u1").at("properties").at("plan") == "enterprise");
        CHECK(get_user(d, "u1").at("properties").at("seats") == 3);
    }
    CHECK(get_user(d, "u1").at("id") == id.c_str());
}
