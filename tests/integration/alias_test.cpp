// POST /public/alias against the real daemon, and every endpoint honouring aliases afterwards.
#include <chrono>
#include <string>
#include <thread>

#include <boost/json/parse.hpp>
#include <catch2/catch.hpp>

#include "tests/support/api_checks.hpp"
#include "tests/support/bulk_jobs.hpp"
#include "tests/support/test_daemon.hpp"

using namespace profiled::test;
namespace json = boost::json;

namespace {

// POST /public/alias with the secret key.
http_reply alias(const test_daemon& d, const std::string& alias_id, const std::string& original_id)
{
    return people_post(d, "/public/alias",
                       R"({"apiKey":")" + d.secret_key() + R"(","alias_id":")" + alias_id + R"(","original_id":")" +
                           original_id + R"("})");
}

// POST /public/identify with the public key.
http_reply people_identify(const test_daemon& d, const std::string& distinct_id, const std::string& properties)
{
    return people_post(d, "/public/identify",
                       R"({"apiKey":")" + d.public_key() + R"(","distinct_id":")" + distinct_id +
                           R"(","properties":)" + properties + "}");
}

// The job's status once it is done or failed, polling for up to 30 seconds ("" on timeout).
std::string wait_for_job(const test_daemon& d, const std::string& job_id)
{
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
        auto r = d.call("GET", "/v1/background_jobs/" + job_id);
        if (r.status == 200) {
            std::string status(r.json().at("status").as_string());
            if (status == "done" || status == "failed")
                return status;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return "";
}

} // namespace

TEST_CASE("alias merges the anonymous profile into the permanent one", "[alias][merge][integration]")
{
    test_daemon d;
    REQUIRE(people_identify(d, "anon_456", R"({"plan":"free","referrer":"ads","$email":"anon@example.com"})").status == 200);
    REQUIRE(d.call("POST", "/v1/users", R"({"user_id":"user_123","properties":{"plan":"pro"},"origin":{"channel":"web"}})")
                .status == 200);
    auto permanent = get_user(d, "user_123");

    auto r = alias(d, "user_123", "anon_456");
    REQUIRE(r.status == 200);
    CHECK(r.body == people_ok);

    for (const char* id : {"user_123", "anon_456"}) {
        CAPTURE(id);
        auto user = get_user(d, id);
        REQUIRE_FALSE(user.empty());
        CHECK(user.at("user_id") == "user_123");
        CHECK(user.at("id") == permanent.at("id"));
        CHECK(user.at("properties") ==
              json::parse(R"({"plan":"pro","referrer":"ads","$email":"anon@example.com"})"));
        CHECK(user.at("email") == "anon@example.com");
        CHECK(user.at("origin") == json::parse(R"({"channel":"web"})"));
        CHECK(user.at("aliases") == json::parse(R"(["anon_456"])"));
    }
}

TEST_CASE("after an alias every endpoint writes to the permanent profile", "[alias][writes][integration]")
{
    test_daemon d;
    REQUIRE(d.call("POST", "/v1/users", R"({"user_id":"user_123","properties":{"plan":"pro"}})").status == 200);
    std::string permanent_id(get_user(d, "user_123").at("id").as_string());
    REQUIRE(alias(d, "user_123", "anon_456").status == 200);

    SECTION("POST /v1/identify")
    {
        REQUIRE(d.identify(R"({"user_id":"anon_456","metadata":{"via":"identify"},"company":{"id":"acme"}})").status == 202);
        CHECK(get_user(d, "user_123").at("properties").at("via") == "identify");
        CHECK(get_user(d, "user_123").at("company_id") == "acme");
    }
    SECTION("POST /v1/users answers 'updated' with the permanent profile's id")
    {
        auto r = d.call("POST", "/v1/users", R"({"user_id":"anon_456","properties":{"via":"users"}})");
        REQUIRE(r.status == 200);
        CHECK(r.body == R"({"success":true,"user_id":")" + permanent_id +
                            R"(","external_id":"anon_456","message":"User updated successfully"})");
        CHECK(get_user(d, "user_123").at("properties").at("via") == "users");
    }
    SECTION("POST /public/identify and /public/people/set")
    {
        REQUIRE(people_identify(d, "anon_456", R"({"via":"people"})").status == 200);
        REQUIRE(people_post(d, "/public/people/set",
                            R"({"apiKey":")" + d.secret_key() +
                                R"(","distinct_id":"anon_456","operations":{"$add":{"visits":2}}})")
                    .status == 200);
        auto user = get_user(d, "user_123");
        CHECK(user.at("properties").at("via") == "people");
        CHECK(user.at("properties").at("visits") == 2);
    }
    SECTION("a bulk row")
    {
        auto r = d.call("POST", "/v1/users/bulk_identify", R"({"users":[{"user_id":"anon_456","metadata":{"via":"bulk"}}]})",
                        {{"Content-Type", "application/json"}});
        REQUIRE(r.status == 202);
        REQUIRE(wait_for_job(d, std::string(r.json().at("job_id").as_string())) == "done");
        CHECK(get_user(d, "user_123").at("properties").at("via") == "bulk");
    }
    // Whatever wrote, no separate profile appeared for the anonymous id.
    CHECK(get_user(d, "anon_456").at("user_id") == "user_123");
    CHECK(get_user(d, "user_123").at("aliases") == json::parse(R"(["anon_456"])"));
}

TEST_CASE("bulk rows addressed to an anonymous id update the permanent profile", "[alias][bulk][integration]")
{
    test_daemon d;
    SECTION("both ids had profiles before the alias; NDJSON rows, one per id")
    {
        REQUIRE(people_identify(d, "anon_456", R"({"referrer":"ads"})").status == 200);
        REQUIRE(people_identify(d, "user_123", R"({"plan":"pro"})").status == 200);
        std::string permanent_id(get_user(d, "user_123").at("id").as_string());
        REQUIRE(alias(d, "user_123", "anon_456").status == 200);

        auto r = upload_ndjson(d, "users",
                               "{\"user_id\":\"anon_456\",\"company_id\":\"acme\",\"metadata\":{\"plan\":\"team\",\"seats\":5}}\n"
                               "{\"user_id\":\"user_123\",\"metadata\":{\"via\":\"bulk\"}}\n");
        REQUIRE(r.status == 202);
        auto job = wait_for_job_end(d, std::string(r.json().at("job_id").as_string()));
        REQUIRE(string_field(job, "status") == "done");
        CHECK(int_field(job, "processed_rows") == 2);
        CHECK(int_field(job, "failed_rows") == 0);

        auto user = get_user(d, "user_123");
        CHECK(user.at("id") == permanent_id.c_str());
        CHECK(user.at("company_id") == "acme");
        CHECK(user.at("properties") == json::parse(R"({"plan":"team","referrer":"ads","seats":5,"via":"bulk"})"));
        CHECK(user.at("aliases") == json::parse(R"(["anon_456"])"));
        CHECK(get_user(d, "anon_456").at("user_id") == "user_123");
    }
    SECTION("the alias came before any profile: the row creates the permanent profile, not an anonymous one")
    {
        REQUIRE(alias(d, "user_123", "anon_456").status == 200);
        auto r = d.call("POST", "/v1/users/bulk_identify", R"({"users":[{"user_id":"anon_456","metadata":{"a":1}}]})",
                        {{"Content-Type", "application/json"}});
        REQUIRE(r.status == 202);
        REQUIRE(wait_for_job(d, std::string(r.json().at("job_id").as_string())) == "done");
        auto user = get_user(d, "user_123");
        REQUIRE_FALSE(user.empty());
        CHECK(user.at("user_id") == "user_123");
        CHECK(user.at("properties") == json::parse(R"({"a":1})"));
        CHECK(get_user(d, "anon_456").at("id") == user.at("id"));
    }
    SECTION("a row addressed to the first id of a chain lands on the last")
    {
        REQUIRE(alias(d, "session", "device").status == 200);
        REQUIRE(alias(d, "user", "session").status == 200);
        auto r = upload_ndjson(d, "users", "{\"user_id\":\"device\",\"metadata\":{\"d\":1}}\n"
                                           "{\"user_id\":\"session\",\"metadata\":{\"s\":2}}\n");
        REQUIRE(r.status == 202);
        REQUIRE(wait_for_job(d, std::string(r.json().at("job_id").as_string())) == "done");
        auto user = get_user(d, "user");
        CHECK(user.at("user_id") == "user");
        CHECK(user.at("properties") == json::parse(R"({"d":1,"s":2})"));
        CHECK(user.at("aliases") == json::parse(R"(["device","session"])"));
    }
}

TEST_CASE("alias chains resolve every id to the last permanent one", "[alias][chains][integration]")
{
    test_daemon d;
    REQUIRE(people_identify(d, "device", R"({"d":1})").status == 200);
    REQUIRE(alias(d, "session", "device").status == 200);
    REQUIRE(alias(d, "user", "session").status == 200);
    for (const char* id : {"device", "session", "user"}) {
        CAPTURE(id);
        auto u = get_user(d, id);
        REQUIRE_FALSE(u.empty());
        CHECK(u.at("user_id") == "user");
        CHECK(u.at("properties").at("d") == 1);
        CHECK(u.at("aliases") == json::parse(R"(["device","session"])"));
    }
}

TEST_CASE("conflicting or malformed aliases are refused and change nothing", "[alias][conflicts][integration]")
{
    test_daemon d;
    REQUIRE(people_identify(d, "user_1", R"({"n":1})").status == 200);
    REQUIRE(people_identify(d, "user_2", R"({"n":2})").status == 200);
    REQUIRE(alias(d, "user_1", "anon").status == 200);

    SECTION("original_id already aliased to another user: 409")
    {
        check_error(alias(d, "user_2", "anon"), 409, "alias_conflict", "original_id");
        CHECK(get_user(d, "anon").at("user_id") == "user_1");
        CHECK(get_user(d, "user_2").at("aliases").as_array().empty());
    }
    SECTION("a cycle: 409")
    {
        check_error(alias(d, "anon", "user_1"), 409, "alias_cycle", "original_id");
        CHECK(get_user(d, "user_1").at("properties").at("n") == 1);
    }
    SECTION("the same id twice: 400")
    {
        check_error(alias(d, "user_2", "user_2"), 400, "same_ids", "original_id");
    }
    SECTION("repeating an alias is accepted and changes nothing")
    {
        auto r = alias(d, "user_1", "anon");
        CHECK(r.status == 200);
        CHECK(r.body == people_ok);
        CHECK(get_user(d, "user_1").at("aliases") == json::parse(R"(["anon"])"));
    }
    SECTION("missing ids: 400")
    {
        check_error(people_post(d, "/public/alias", R"({"apiKey":")" + d.secret_key() + R"(","original_id":"x"})"), 400,
                    "missing_field", "alias_id");
        check_error(people_post(d, "/public/alias", R"({"apiKey":")" + d.secret_key() + R"(","alias_id":"x"})"), 400,
                    "missing_field", "original_id");
    }
    CHECK(get_user(d, "user_2").at("properties").at("n") == 2);
}

TEST_CASE("an alias belongs to its key's project", "[alias][auth][integration]")
{
    test_daemon d;
    auto other = create_key(d.data_dir(), "other", "secret");
    REQUIRE(people_identify(d, "anon", R"({"mine":true})").status == 200);
    auto r = people_post(d, "/public/alias", R"({"apiKey":")" + other + R"(","alias_id":"user","original_id":"anon"})");
    REQUIRE(r.status == 200);
    CHECK(get_user(d, "anon").at("user_id") == "anon");
    CHECK(get_user(d, "user").empty());
}
