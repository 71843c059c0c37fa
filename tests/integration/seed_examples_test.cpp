// Every request example of the seed documents (../shared/seeds/), sent as written apart from host and key,
// gets the documented success response, and the profile it produced reads back through GET /v1/users/{id}.
// (The bulk_identify examples are covered with the bulk jobs.)
#include <string>

#include <boost/json/parse.hpp>
#include <catch2/catch.hpp>

#include "tests/support/api_checks.hpp"
#include "tests/support/test_daemon.hpp"

using namespace profiled::test;
namespace json = boost::json;

namespace {

// Replaces every occurrence of placeholder in text with value.
std::string with_key(std::string text, const std::string& placeholder, const std::string& value)
{
    for (auto at = text.find(placeholder); at != std::string::npos; at = text.find(placeholder, at + value.size()))
        text.replace(at, placeholder.size(), value);
    return text;
}

// identify-and-bulk-api.txt, "Individual Identify": the example body as printed.
const std::string identify_example = R"({
  "user_id": "user_001",
  "metadata": {
    "name": "Jane Doe",
    "email": "jane@example.com"
  },
  "company": {
    "id": "company_001"
  }
})";

// people-api.txt, "Identify / Set User Properties": the cURL -d body.
const std::string people_identify_example = R"({
    "apiKey": "YOUR_PUBLIC_API_KEY",
    "distinct_id": "user_123",
    "properties": {
      "$name": "John Doe",
      "$email": "test@test.com",
      "plan": "pro"
    }
  })";

// people-api.txt, "Advanced Profile Operations": the request example.
const std::string people_set_example = R"({
  "apiKey": "YOUR_SECRET_KEY",
  "distinct_id": "user_123",
  "operations": {
    "$set": {
      "last_login": "2023-10-27"
    },
    "$add": {
      "login_count": 1
    }
  }
})";

// people-api.txt, "Alias Identity": the request example.
const std::string people_alias_example = R"({
  "apiKey": "YOUR_SECRET_KEY",
  "alias_id": "user_123",
  "original_id": "anon_456"
})";

// users-api.txt: the request body and the cURL -d body (the same JSON, without indentation).
const std::string users_example = R"({
"user_id": "user_123",
"email": "user@example.com",
"phone": "+1234567890",
"properties": {
"name": "John Doe",
"plan": "premium",
"signup_date": "2023-06-15"
},
"origin": {
"channel": "ios-app",
"campaign": "spring-launch",
"label": "Onboarding Flow"
}
})";

// users-api.txt: what the JavaScript (JSON.stringify) and Python (json=) examples put on the wire.
const std::string users_js_example =
    R"({"user_id":"user_123","email":"user@example.com","phone":"+1234567890","properties":{"name":"John Doe",)"
    R"("plan":"premium","signup_date":"2023-06-15"},"origin":{"channel":"ios-app","campaign":"spring-launch"}})";
const std::string users_python_example =
    R"({"user_id": "user_123", "email": "user@example.com", "phone": "+1234567890", "properties": {"name": "John Doe", )"
    R"("plan": "premium", "signup_date": "2023-06-15"}, "origin": {"channel": "ios-app", "campaign": "spring-launch"}})";

// POST with the headers a seed document lists.
http_reply post(const test_daemon& d, const std::string& path, const std::string& body, header_list headers)
{
    headers.emplace_back("Content-Type", "application/json");
    return http_call(d.port(), "POST", path, body, headers);
}

} // namespace

TEST_CASE("the identify documents' example gets 202 and the profile reads back", "[seeds][identify][integration]")
{
    test_daemon d;
    auto r = post(d, "/v1/identify", identify_example,
                  {{"Authorization", "Token " + d.secret_key()}, {"X-API-Version", "2020-09-22"}});
    CHECK(r.status == 202);
    auto user = get_user(d, "user_001");
    REQUIRE_FALSE(user.empty());
    CHECK(user.at("properties") == json::parse(R"({"name":"Jane Doe","email":"jane@example.com"})"));
    CHECK(user.at("company_id") == "company_001");
    CHECK(d.call("GET", "/v1/companies/company_001").status == 200);
}

TEST_CASE("the Users API examples get the documented answer and the profile reads back", "[seeds][users][integration]")
{
    test_daemon d;
    std::string example = GENERATE_REF(as<std::string>(), users_example, users_js_example, users_python_example);
    auto r = post(d, "/v1/users", example, {{"Authorization", "Bearer " + d.secret_key()}});
    REQUIRE(r.status == 200);
    auto body = r.json().as_object();
    CHECK(body.at("success") == true);
    CHECK(body.at("external_id") == "user_123");
    CHECK(body.at("message") == "User created successfully");

    auto user = get_user(d, "user_123");
    REQUIRE_FALSE(user.empty());
    CHECK(user.at("id") == body.at("user_id"));
    CHECK(user.at("email") == "user@example.com");
    CHECK(user.at("phone") == "+1234567890");
    CHECK(user.at("properties") == json::parse(R"({"name":"John Doe","plan":"premium","signup_date":"2023-06-15"})"));
    CHECK(user.at("origin").at("channel") == "ios-app");
    CHECK(user.at("origin").at("campaign") == "spring-launch");
}

TEST_CASE("the People API examples, in the document's order, get {status:1} and build one profile",
          "[seeds][people][integration]")
{
    test_daemon d;
    auto public_body = with_key(people_identify_example, "YOUR_PUBLIC_API_KEY", d.public_key());
    auto identify = post(d, "/public/identify", public_body, {});
    REQUIRE(identify.status == 200);
    CHECK(identify.body == R"({"status":1,"error":null})");
    auto after_identify = get_user(d, "user_123");
    REQUIRE_FALSE(after_identify.empty());
    CHECK(after_identify.at("email") == "test@test.com");
    CHECK(after_identify.at("properties") ==
          json::parse(R"({"$name":"John Doe","$email":"test@test.com","plan":"pro"})"));

    auto set = post(d, "/public/people/set", with_key(people_set_example, "YOUR_SECRET_KEY", d.secret_key()), {});
    REQUIRE(set.status == 200);
    CHECK(set.body == R"({"status":1,"error":null})");
    CHECK(get_user(d, "user_123").at("properties") ==
          json::parse(R"({"$name":"John Doe","$email":"test@test.com","plan":"pro","last_login":"2023-10-27","login_count":1})"));

    auto alias = post(d, "/public/alias", with_key(people_alias_example, "YOUR_SECRET_KEY", d.secret_key()), {});
    REQUIRE(alias.status == 200);
    CHECK(alias.body == R"({"status":1,"error":null})");
    auto through_alias = get_user(d, "anon_456");
    REQUIRE_FALSE(through_alias.empty());
    CHECK(through_alias.at("user_id") == "user_123");
    CHECK(through_alias.at("id") == after_identify.at("id"));
    CHECK(through_alias.at("aliases") == json::parse(R"(["anon_456"])"));
}

TEST_CASE("each People API example also works on its own", "[seeds][people][integration]")
{
    test_daemon d;
    SECTION("people/set creates the profile")
    {
        REQUIRE(post(d, "/public/people/set", with_key(people_set_example, "YOUR_SECRET_KEY", d.secret_key()), {}).body ==
                R"({"status":1,"error":null})");
        CHECK(get_user(d, "user_123").at("properties") ==
              json::parse(R"({"last_login":"2023-10-27","login_count":1})"));
    }
    SECTION("alias before any profile, then a write to the anonymous id lands on the permanent one")
    {
        REQUIRE(post(d, "/public/alias", with_key(people_alias_example, "YOUR_SECRET_KEY", d.secret_key()), {}).body ==
                R"({"status":1,"error":null})");
        REQUIRE(post(d, "/public/identify",
                     with_key(with_key(people_identify_example, "YOUR_PUBLIC_API_KEY", d.public_key()), "user_123", "anon_456"),
                     {})
                    .status == 200);
        auto user = get_user(d, "user_123");
        REQUIRE_FALSE(user.empty());
        CHECK(user.at("properties").at("plan") == "pro");
        CHECK(user.at("aliases") == json::parse(R"(["anon_456"])"));
    }
}
