// The Users API dialect against the real daemon: POST /v1/users.
#include <string>
#include <tuple>

#include <boost/json/parse.hpp>
#include <catch2/catch.hpp>

#include "tests/support/api_checks.hpp"
#include "tests/support/test_daemon.hpp"

using namespace profiled::test;
namespace json = boost::json;

namespace {

// POST /v1/users with "Authorization: Bearer KEY".
http_reply post_user(const test_daemon& d, const std::string& body, const std::string& key)
{
    return http_call(d.port(), "POST", "/v1/users", body,
                     {{"Authorization", "Bearer " + key}, {"Content-Type", "application/json"}});
}

// POST /v1/users with the daemon's secret key.
http_reply post_user(const test_daemon& d, const std::string& body) { return post_user(d, body, d.secret_key()); }

} // namespace

TEST_CASE("POST /v1/users answers created, then updated, with the internal and external ids", "[users][integration]")
{
    test_daemon d;
    auto created = post_user(d, R"({"user_id":"user_123","email":"user@example.com","properties":{"plan":"free"}})");
    REQUIRE(created.status == 200);
    auto body = created.json().as_object();
    CHECK(body.size() == 4);
    CHECK(body.at("success") == true);
    CHECK(body.at("external_id") == "user_123");
    CHECK(body.at("message") == "User created successfully");
    std::string internal_id(body.at("user_id").as_string());
    CHECK(internal_id.rfind("usr_", 0) == 0);
    CHECK(internal_id.size() == 20);
    CHECK(created.body == R"({"success":true,"user_id":")" + internal_id +
                              R"(","external_id":"user_123","message":"User created successfully"})");

    auto updated = post_user(d, R"({"user_id":"user_123","phone":"+14155550123","properties":{"plan":"premium"}})");
    REQUIRE(updated.status == 200);
    CHECK(updated.body == R"({"success":true,"user_id":")" + internal_id +
                              R"(","external_id":"user_123","message":"User updated successfully"})");

    auto user = get_user(d, "user_123");
    CHECK(user.at("id") == internal_id.c_str());
    CHECK(user.at("email") == "user@example.com");
    CHECK(user.at("phone") == "+14155550123");
    CHECK(user.at("properties") == json::parse(R"({"plan":"premium"})"));
}

TEST_CASE("POST /v1/users merges properties and origin and ignores null email and phone", "[users][integration]")
{
    test_daemon d;
    REQUIRE(post_user(d, R"({"user_id":"u","email":"a@example.com","phone":"+12345678",
                             "properties":{"a":1,"b":2},"origin":{"channel":"ios-app","campaign":"spring"}})")
                .status == 200);
    REQUIRE(post_user(d, R"({"user_id":"u","email":null,"phone":null,"properties":{"b":null,"c":3},
                             "origin":{"campaign":"summer","label":"Onboarding Flow"}})")
                .status == 200);
    auto user = get_user(d, "u");
    CHECK(user.at("email") == "a@example.com");
    CHECK(user.at("phone") == "+12345678");
    CHECK(user.at("properties") == json::parse(R"({"a":1,"b":null,"c":3})"));
    CHECK(user.at("origin") == json::parse(R"({"channel":"ios-app","campaign":"summer","label":"Onboarding Flow"})"));
}

TEST_CASE("POST /v1/users validates email and E.164 phone", "[users][validation][integration]")
{
    test_daemon d;
    std::string fields, field;
    std::tie(fields, field) = GENERATE(table<std::string, std::string>({
        {R"("email":"user.example.com")", "email"},
        {R"("email":"user@localhost")", "email"},
        {R"("email":"jane doe@example.com")", "email"},
        {R"("email":"")", "email"},
        {R"("email":42)", "email"},
        {R"("phone":"1234567890")", "phone"},
        {R"("phone":"+1234567")", "phone"},
        {R"("phone":"+1234567890123456")", "phone"},
        {R"("phone":"+0123456789")", "phone"},
        {R"("phone":"+1 415 555 0123")", "phone"},
        {R"("phone":14155550123)", "phone"},
        {R"("properties":["plan"])", "properties"},
        {R"("origin":"ios-app")", "origin"},
    }));
    CAPTURE(fields);
    check_error(post_user(d, R"({"user_id":"u",)" + fields + "}"), 400, "invalid_field", field);
    CHECK(get_user(d, "u").empty());
}

TEST_CASE("POST /v1/users refuses a missing or bad user_id", "[users][validation][integration]")
{
    test_daemon d;
    std::string body, code;
    std::tie(body, code) = GENERATE(table<std::string, std::string>({
        {R"({"email":"user@example.com"})", "missing_field"},
        {R"({"user_id":null})", "missing_field"},
        {R"({"user_id":""})", "invalid_field"},
        {R"({"user_id":123})", "invalid_field"},
        {"{\"user_id\":\"" + std::string(256, 'u') + "\"}", "invalid_field"},
    }));
    CAPTURE(body);
    check_error(post_user(d, body), 400, code, "user_id");
}

TEST_CASE("POST /v1/users takes Bearer or Token secret keys only", "[users][auth][integration]")
{
    test_daemon d;
    SECTION("Token works like Bearer")
    {
        auto r = http_call(d.port(), "POST", "/v1/users", R"({"user_id":"u"})",
                           {{"Authorization", "Token " + d.secret_key()}, {"Content-Type", "application/json"}});
        CHECK(r.status == 200);
        CHECK(get_user(d, "u").at("user_id") == "u");
    }
    SECTION("a public key: 403")
    {
        check_error(post_user(d, R"({"user_id":"u"})", d.public_key()), 403, "forbidden");
        CHECK(get_user(d, "u").empty());
    }
    SECTION("no key: 401")
    {
        check_error(http_call(d.port(), "POST", "/v1/users", R"({"user_id":"u"})", {{"Content-Type", "application/json"}}),
                    401, "unauthorized");
        CHECK(get_user(d, "u").empty());
    }
    SECTION("an unknown key: 401")
    {
        check_error(post_user(d, R"({"user_id":"u"})", "sk_nope"), 401, "unauthorized");
        CHECK(get_user(d, "u").empty());
    }
}
