// The People API dialect against the real daemon: /public/identify, /public/people/set, keys and refusals.
#include <atomic>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <catch2/catch.hpp>

#include "tests/support/api_checks.hpp"
#include "tests/support/test_daemon.hpp"
#include "tests/support/test_engine.hpp"

using namespace profiled::test;
namespace json = boost::json;

namespace {

// A /public/people/set body with the secret key.
std::string people_set_body(const test_daemon& d, const std::string& distinct_id, const std::string& operations)
{
    return R"({"apiKey":")" + d.secret_key() + R"(","distinct_id":")" + distinct_id + R"(","operations":)" +
           operations + "}";
}

// The stored properties of a user, as JSON text ("" when there is no such user).
std::string properties_of(const test_daemon& d, const std::string& user_id)
{
    auto user = get_user(d, user_id);
    return user.empty() ? "" : json::serialize(user.at("properties"));
}

} // namespace

TEST_CASE("/public/identify accepts a public or a secret key and merges properties", "[people][identify][integration]")
{
    test_daemon d;
    std::string key = GENERATE(as<std::string>(), "public", "secret");
    std::string api_key = key == "public" ? d.public_key() : d.secret_key();

    auto first = people_post(d, "/public/identify",
                             R"({"apiKey":")" + api_key + R"(","distinct_id":"u1","properties":{"plan":"free","a":1}})");
    REQUIRE(first.status == 200);
    CHECK(first.body == people_ok);
    CHECK(first.headers.at("content-type") == "application/json");
    auto second = people_post(d, "/public/identify",
                              R"({"apiKey":")" + api_key + R"(","distinct_id":"u1","properties":{"plan":"pro","b":null}})");
    REQUIRE(second.status == 200);
    CHECK(second.body == people_ok);
    // SQLite keeps the keys in the order written; jsonb orders them its own way (a documented engine difference).
    if (on_postgres())
        CHECK(json::parse(properties_of(d, "u1")) == json::parse(R"({"plan":"pro","a":1,"b":null})"));
    else
        CHECK(properties_of(d, "u1") == R"({"plan":"pro","a":1,"b":null})");
}

TEST_CASE("/public/identify fills email and phone from $email and $phone and keeps them in properties",
          "[people][identify][contact][integration]")
{
    test_daemon d;
    auto r = people_post(d, "/public/identify",
                         R"({"apiKey":")" + d.public_key() +
                             R"(","distinct_id":"u1","properties":{"$name":"Ann","$email":"ann@example.org","$phone":"+447911123456"}})");
    REQUIRE(r.status == 200);
    auto user = get_user(d, "u1");
    CHECK(user.at("email") == "ann@example.org");
    CHECK(user.at("phone") == "+447911123456");
    CHECK(user.at("properties").at("$name") == "Ann");
    CHECK(user.at("properties").at("$email") == "ann@example.org");

    SECTION("null clears them")
    {
        REQUIRE(people_post(d, "/public/identify",
                            R"({"apiKey":")" + d.public_key() + R"(","distinct_id":"u1","properties":{"$email":null}})")
                    .status == 200);
        auto cleared = get_user(d, "u1");
        CHECK(cleared.at("email").is_null());
        CHECK(cleared.at("phone") == "+447911123456");
    }
    SECTION("an invalid address is a 400 naming the property, and nothing changes")
    {
        auto bad = people_post(d, "/public/identify",
                               R"({"apiKey":")" + d.public_key() +
                                   R"(","distinct_id":"u1","properties":{"plan":"pro","$email":"ann at example"}})");
        check_error(bad, 400, "invalid_field", "properties.$email");
        CHECK_FALSE(get_user(d, "u1").at("properties").as_object().contains("plan"));
    }
}

TEST_CASE("/public/people/set applies each operation as documented", "[people][operations][integration]")
{
    test_daemon d;
    REQUIRE(people_post(d, "/public/people/set",
                        people_set_body(d, "u1", R"({"$set":{"s":"x","n":10,"l":["a"],"z":null}})"))
                .status == 200);

    std::string operations, expected;
    std::tie(operations, expected) = GENERATE(table<std::string, std::string>({
        {R"({"$set":{"s":"y"}})", R"({"s":"y","n":10,"l":["a"],"z":null})"},
        {R"({"$set_once":{"s":"y","new":1,"z":2}})", R"({"s":"x","n":10,"l":["a"],"z":null,"new":1})"},
        {R"({"$add":{"n":-2.5,"missing":3,"z":4}})", R"({"s":"x","n":7.5E0,"l":["a"],"z":4,"missing":3})"},
        {R"({"$append":{"l":"b","m":[1]}})", R"({"s":"x","n":10,"l":["a","b"],"z":null,"m":[[1]]})"},
        {R"({"$union":{"l":["a","c","c"]}})", R"({"s":"x","n":10,"l":["a","c"],"z":null})"},
        {R"({"$remove":{"l":"a","missing":"a"}})", R"({"s":"x","n":10,"l":[],"z":null})"},
        {R"({"$unset":["s","z","missing"]})", R"({"n":10,"l":["a"]})"},
    }));
    CAPTURE(operations);
    auto r = people_post(d, "/public/people/set", people_set_body(d, "u1", operations));
    REQUIRE(r.status == 200);
    CHECK(r.body == people_ok);
    CHECK(json::parse(properties_of(d, "u1")) == json::parse(expected));
}

TEST_CASE("a refused /public/people/set changes nothing, its $set included", "[people][operations][atomicity][integration]")
{
    test_daemon d;
    REQUIRE(people_post(d, "/public/people/set", people_set_body(d, "u1", R"({"$set":{"name":"Ann","tags":"solo"}})"))
                .status == 200);
    auto before = get_user(d, "u1");

    std::string operations, field;
    std::tie(operations, field) = GENERATE(table<std::string, std::string>({
        {R"({"$set":{"plan":"pro"},"$add":{"name":1}})", "operations.$add.name"},
        {R"({"$set":{"plan":"pro"},"$append":{"tags":"x"}})", "operations.$append.tags"},
        {R"({"$set":{"plan":"pro"},"$union":{"tags":["x"]}})", "operations.$union.tags"},
        {R"({"$set":{"plan":"pro"},"$remove":{"tags":"solo"}})", "operations.$remove.tags"},
    }));
    CAPTURE(operations);
    auto r = people_post(d, "/public/people/set", people_set_body(d, "u1", operations));
    check_error(r, 400, "type_conflict", field);
    auto after = get_user(d, "u1");
    CHECK(after.at("properties") == before.at("properties"));
    CHECK(after.at("updated_at") == before.at("updated_at"));
}

TEST_CASE("$add on a stored value that is not a number is a 400 that changes nothing", "[people][operations][atomicity][integration]")
{
    test_daemon d;
    REQUIRE(people_post(d, "/public/people/set",
                        people_set_body(d, "u1", R"({"$set":{"s":"x","digits":"5","l":[1],"b":true,"o":{"k":1},"n":1}})"))
                .status == 200);
    auto before = get_user(d, "u1");
    std::string property = GENERATE(as<std::string>(), "s", "digits", "l", "b", "o");
    CAPTURE(property);
    // Every other operation in the request would succeed on its own; none of them may be applied.
    auto r = people_post(d, "/public/people/set",
                         people_set_body(d, "u1", R"({"$set":{"plan":"pro"},"$set_once":{"fresh":1},"$add":{"n":1,")" +
                                                      property + R"(":1},"$append":{"l2":1},"$unset":["s"]})"));
    check_error(r, 400, "type_conflict", "operations.$add." + property);
    CHECK(r.error_message().find("$add needs a number") != std::string::npos);
    auto after = get_user(d, "u1");
    CHECK(after.at("properties") == before.at("properties"));
    CHECK(after.at("updated_at") == before.at("updated_at"));
}

TEST_CASE("refused and accepted /public/people/set requests racing on one user: each refused one undoes only itself",
          "[people][operations][atomicity][integration]")
{
    test_daemon d;
    REQUIRE(people_post(d, "/public/people/set", people_set_body(d, "u1", R"({"$set":{"name":"Ann"}})")).status == 200);
    constexpr int writers = 8, rounds = 5;
    std::atomic<int> accepted{0}, refused{0}, other{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < writers; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < rounds; ++i) {
                std::string tag = std::to_string(t) + "_" + std::to_string(i);
                // Odd writers send requests whose $add hits the string "name": every part of them must vanish.
                std::string operations =
                    t % 2 == 0 ? R"({"$add":{"count":1},"$append":{"log":")" + tag + R"("}})"
                               : R"({"$set":{"bad_)" + tag + R"(":1},"$add":{"count":1,"name":1},"$append":{"log":"bad"}})";
                auto r = people_post(d, "/public/people/set", people_set_body(d, "u1", operations));
                (r.status == 200 ? accepted : r.status == 400 ? refused : other)++;
            }
        });
    }
    for (auto& th : threads)
        th.join();
    CHECK(accepted == writers / 2 * rounds);
    CHECK(refused == writers / 2 * rounds);
    CHECK(other == 0);
    auto properties = get_user(d, "u1").at("properties").as_object();
    CHECK(properties.at("count") == writers / 2 * rounds);
    CHECK(properties.at("name") == "Ann");
    CHECK(properties.at("log").as_array().size() == static_cast<std::size_t>(writers / 2 * rounds));
    CHECK(properties.size() == 3);
}

TEST_CASE("/public/people/set creates an absent profile", "[people][operations][integration]")
{
    test_daemon d;
    auto r = people_post(d, "/public/people/set", people_set_body(d, "new_user", R"({"$add":{"logins":1}})"));
    REQUIRE(r.status == 200);
    CHECK(properties_of(d, "new_user") == R"({"logins":1})");
}

TEST_CASE("/public/people/set refuses bad operations with a 400 that names them", "[people][operations][validation][integration]")
{
    test_daemon d;
    std::string operations, code, field;
    std::tie(operations, code, field) = GENERATE(table<std::string, std::string, std::string>({
        {R"({"$increment":{"n":1}})", "unknown_operation", "operations.$increment"},
        {R"({"$add":{"n":"1"}})", "invalid_field", "operations.$add.n"},
        {R"({"$union":{"n":"golf"}})", "invalid_field", "operations.$union.n"},
        {R"({"$unset":"n"})", "invalid_field", "operations.$unset"},
        {R"({"$set":[1]})", "invalid_field", "operations.$set"},
        {R"({"$append":{"$email":"a@example.com"}})", "invalid_field", "operations.$append.$email"},
        {R"(null)", "missing_field", "operations"},
        {R"("$set")", "invalid_field", "operations"},
    }));
    CAPTURE(operations);
    check_error(people_post(d, "/public/people/set", people_set_body(d, "u1", operations)), 400, code, field);
    CHECK(get_user(d, "u1").empty());
}

TEST_CASE("the People API authenticates with apiKey in the body", "[people][auth][integration]")
{
    test_daemon d;
    SECTION("a public key may identify but not set or alias: 403 naming the rule")
    {
        for (const char* path : {"/public/people/set", "/public/alias"}) {
            CAPTURE(path);
            std::string body = std::string(path) == "/public/alias"
                                   ? R"({"apiKey":")" + d.public_key() + R"(","alias_id":"u1","original_id":"a1"})"
                                   : R"({"apiKey":")" + d.public_key() + R"(","distinct_id":"u1","operations":{"$set":{"a":1}}})";
            auto r = people_post(d, path, body);
            check_error(r, 403, "forbidden");
            CHECK(r.error_message().find("secret key") != std::string::npos);
            CHECK(r.error_message().find(path) != std::string::npos);
        }
        CHECK(get_user(d, "u1").empty());
    }
    SECTION("no key, an empty key or an unknown key: 401")
    {
        std::string key_part = GENERATE(as<std::string>(), "", R"("apiKey":null,)", R"("apiKey":"",)",
                                        R"("apiKey":"sk_unknown0000000000000000000000000000000000",)");
        CAPTURE(key_part);
        auto r = people_post(d, "/public/identify", "{" + key_part + R"("distinct_id":"u1"})");
        check_error(r, 401, "unauthorized");
        CHECK(get_user(d, "u1").empty());
    }
    SECTION("a key that is not a string: 400")
    {
        check_error(people_post(d, "/public/identify", R"({"apiKey":42,"distinct_id":"u1"})"), 400, "invalid_field",
                    "apiKey");
    }
    SECTION("a revoked key: 401")
    {
        auto revoked = create_key(d.data_dir(), "default", "secret");
        REQUIRE(run_profiled({"keys", "revoke", "--data-dir", d.data_dir(), revoked.substr(0, 11)}).exit_code == 0);
        check_error(people_post(d, "/public/identify", R"({"apiKey":")" + revoked + R"(","distinct_id":"u1"})"), 401,
                    "unauthorized");
    }
    SECTION("an Authorization header does not replace apiKey")
    {
        auto r = http_call(d.port(), "POST", "/public/identify", R"({"distinct_id":"u1"})",
                           {{"Content-Type", "application/json"}, {"Authorization", "Token " + d.secret_key()}});
        check_error(r, 401, "unauthorized");
    }
}

TEST_CASE("a key of another project sees its own profiles only", "[people][auth][integration]")
{
    test_daemon d;
    auto other = create_key(d.data_dir(), "other", "secret");
    REQUIRE(people_post(d, "/public/identify", R"({"apiKey":")" + other + R"(","distinct_id":"u1","properties":{"p":"other"}})")
                .status == 200);
    CHECK(get_user(d, "u1").empty());
    auto own = http_call(d.port(), "GET", "/v1/users/u1", "", {{"Authorization", "Bearer " + other}});
    REQUIRE(own.status == 200);
    CHECK(own.json().at("properties").at("p") == "other");
}

TEST_CASE("the People API refuses bodies that are not JSON objects", "[people][validation][integration]")
{
    test_daemon d;
    std::string path = GENERATE(as<std::string>(), "/public/identify", "/public/people/set", "/public/alias");
    CAPTURE(path);
    SECTION("not JSON") { check_error(people_post(d, path, "apiKey=x"), 400, "invalid_json"); }
    SECTION("an array") { check_error(people_post(d, path, "[]"), 400, "invalid_json"); }
    SECTION("a form content type")
    {
        auto r = http_call(d.port(), "POST", path, "{}", {{"Content-Type", "application/x-www-form-urlencoded"}});
        check_error(r, 415, "unsupported_media_type");
    }
    SECTION("GET is not allowed") { check_error(http_call(d.port(), "GET", path), 405, "method_not_allowed"); }
}
