// POST /v1/identify, POST /v1/companies/identify and the profile reads, against the real daemon.
#include <string>
#include <tuple>

#include <boost/json/serialize.hpp>
#include <catch2/catch.hpp>

#include "tests/support/api_checks.hpp"
#include "tests/support/test_daemon.hpp"

using namespace profiled::test;

namespace {

// True when text is an RFC 3339 UTC time as profiled writes it, e.g. 2025-02-02T12:34:56.789Z.
bool is_rfc3339_utc(const boost::json::value& v)
{
    if (!v.is_string())
        return false;
    std::string s(v.as_string());
    return s.size() == 24 && s[4] == '-' && s[7] == '-' && s[10] == 'T' && s[13] == ':' && s[16] == ':' &&
           s[19] == '.' && s.back() == 'Z';
}

} // namespace

TEST_CASE("identify stores a profile that reads back", "[identify][integration]")
{
    test_daemon d;
    auto r = d.identify(R"({"user_id":"user_001","metadata":{"name":"Jane Doe","email":"jane@example.com"},
                           "company":{"id":"company_001","plan":"pro"}})");
    REQUIRE(r.status == 202);
    CHECK(r.body == "{}");
    CHECK(r.headers["content-type"] == "application/json");

    auto user = d.call("GET", "/v1/users/user_001");
    REQUIRE(user.status == 200);
    auto u = user.json().as_object();
    CHECK(u.at("user_id") == "user_001");
    CHECK(u.at("company_id") == "company_001");
    CHECK(u.at("properties") == boost::json::object{{"name", "Jane Doe"}, {"email", "jane@example.com"}});
    CHECK(u.at("email").is_null()); // metadata.email is a property, not the top-level field
    CHECK(u.at("phone").is_null());
    CHECK(u.at("origin") == boost::json::object{});
    CHECK(u.at("aliases") == boost::json::array{});
    CHECK(std::string(u.at("id").as_string()).rfind("usr_", 0) == 0);
    CHECK(u.at("id").as_string().size() == 20);
    CHECK(is_rfc3339_utc(u.at("created_at")));
    CHECK(is_rfc3339_utc(u.at("updated_at")));

    auto company = d.call("GET", "/v1/companies/company_001");
    REQUIRE(company.status == 200);
    auto c = company.json().as_object();
    CHECK(c.at("company_id") == "company_001");
    CHECK(c.at("properties") == boost::json::object{{"plan", "pro"}});
    CHECK(is_rfc3339_utc(c.at("created_at")));
}

TEST_CASE("identify takes the key as Token or Bearer", "[identify][integration]")
{
    test_daemon d;
    auto scheme = GENERATE(as<std::string>{}, "Token", "Bearer", "token", "BEARER");
    CAPTURE(scheme);
    auto r = http_call(d.port(), "POST", "/v1/identify", R"({"user_id":"user_001"})",
                       identify_headers(d.secret_key(), scheme));
    CHECK(r.status == 202);
    auto read = http_call(d.port(), "GET", "/v1/users/user_001", "", {{"Authorization", scheme + " " + d.secret_key()}});
    CHECK(read.status == 200);
}

TEST_CASE("identify merges into the stored profile", "[identify][integration]")
{
    test_daemon d;
    REQUIRE(d.identify(R"({"user_id":"user_001","metadata":{"name":"Jane Doe","plan":"free","logins":3},
                           "company":{"id":"company_001"}})")
                .status == 202);
    auto first = get_user(d, "user_001");
    REQUIRE_FALSE(first.empty());

    REQUIRE(d.identify(R"({"user_id":"user_001","metadata":{"plan":"pro","name":null,"seats":5}})").status == 202);
    auto second = get_user(d, "user_001");
    REQUIRE_FALSE(second.empty());

    SECTION("given keys overwrite, missing keys stay, null is stored as null")
    {
        CHECK(second.at("properties") ==
              boost::json::object{{"name", nullptr}, {"plan", "pro"}, {"logins", 3}, {"seats", 5}});
    }
    SECTION("the company stays when the later identify names none")
    {
        CHECK(second.at("company_id") == "company_001");
    }
    SECTION("the internal id and created_at are kept; updated_at does not go back")
    {
        CHECK(second.at("id") == first.at("id"));
        CHECK(second.at("created_at") == first.at("created_at"));
        CHECK(second.at("updated_at").as_string() >= first.at("updated_at").as_string());
    }
    SECTION("an identify with only the user_id changes no property")
    {
        REQUIRE(d.identify(R"({"user_id":"user_001"})").status == 202);
        CHECK(get_user(d, "user_001").at("properties") == second.at("properties"));
    }
}

TEST_CASE("identify links the user to a company and fills the company's properties", "[identify][integration]")
{
    test_daemon d;

    SECTION("company.id, with the other keys as company properties")
    {
        REQUIRE(d.identify(R"({"user_id":"u1","company":{"id":"acme","name":"Acme","size":12}})").status == 202);
        CHECK(get_user(d, "u1").at("company_id") == "acme");
        auto c = d.call("GET", "/v1/companies/acme");
        REQUIRE(c.status == 200);
        CHECK(c.json().at("properties") == boost::json::object{{"name", "Acme"}, {"size", 12}});
    }
    SECTION("company.company_id works the same")
    {
        REQUIRE(d.identify(R"({"user_id":"u1","company":{"company_id":"globex","plan":"pro"}})").status == 202);
        CHECK(get_user(d, "u1").at("company_id") == "globex");
        auto c = d.call("GET", "/v1/companies/globex");
        REQUIRE(c.status == 200);
        CHECK(c.json().at("properties") == boost::json::object{{"plan", "pro"}});
    }
    SECTION("a later identify moves the user and merges into the company")
    {
        REQUIRE(d.identify(R"({"user_id":"u1","company":{"id":"acme","name":"Acme"}})").status == 202);
        REQUIRE(d.identify(R"({"user_id":"u2","company":{"id":"acme","plan":"pro"}})").status == 202);
        REQUIRE(d.identify(R"({"user_id":"u1","company":{"id":"initech"}})").status == 202);
        CHECK(get_user(d, "u1").at("company_id") == "initech");
        CHECK(get_user(d, "u2").at("company_id") == "acme");
        CHECK(d.call("GET", "/v1/companies/acme").json().at("properties") ==
              boost::json::object{{"name", "Acme"}, {"plan", "pro"}});
        CHECK(d.call("GET", "/v1/companies/initech").status == 200);
    }
}

TEST_CASE("companies/identify creates and merges companies", "[identify][integration]")
{
    test_daemon d;
    auto r = d.call("POST", "/v1/companies/identify", R"({"company_id":"acme","metadata":{"name":"Acme","size":10}})");
    REQUIRE(r.status == 202);
    CHECK(r.body == "{}");
    REQUIRE(d.call("POST", "/v1/companies/identify", R"({"company_id":"acme","metadata":{"size":11,"tier":null}})")
                .status == 202);

    auto c = d.call("GET", "/v1/companies/acme");
    REQUIRE(c.status == 200);
    auto body = c.json().as_object();
    CHECK(body.at("company_id") == "acme");
    CHECK(body.at("properties") == boost::json::object{{"name", "Acme"}, {"size", 11}, {"tier", nullptr}});
    CHECK(body.at("updated_at").as_string() >= body.at("created_at").as_string());
    // A company on its own is not a user.
    check_error(d.call("GET", "/v1/users/acme"), 404, "not_found");
}

TEST_CASE("unknown users and companies are 404 with the common error body", "[identify][integration]")
{
    test_daemon d;
    check_error(d.call("GET", "/v1/users/nobody"), 404, "not_found");
    check_error(d.call("GET", "/v1/companies/nothing"), 404, "not_found");
}

TEST_CASE("user ids with reserved URL characters read back through their percent-encoded form",
          "[identify][integration]")
{
    test_daemon d;
    std::string user_id, path;
    std::tie(user_id, path) = GENERATE(table<std::string, std::string>({
        {"a/b", "a%2Fb"},
        {"a/b", "a%2fb"},
        {"user@x.com", "user@x.com"},
        {"user@x.com", "user%40x.com"},
        {"with space", "with%20space"},
        {"100%", "100%25"},
        {"q?x=1", "q%3Fx=1"},
        {"hash#1", "hash%231"},
        {"j\xc3\xb6rg", "j%C3%B6rg"},
        {"plus+sign", "plus+sign"},
    }));
    CAPTURE(user_id, path);
    REQUIRE(d.identify("{\"user_id\":" + boost::json::serialize(boost::json::value(user_id)) + "}").status == 202);
    auto u = get_user(d, path);
    REQUIRE_FALSE(u.empty());
    CHECK(u.at("user_id") == user_id.c_str());
}

TEST_CASE("company ids with reserved URL characters read back too", "[identify][integration]")
{
    test_daemon d;
    REQUIRE(d.call("POST", "/v1/companies/identify", R"({"company_id":"acme/eu@1"})").status == 202);
    auto c = d.call("GET", "/v1/companies/acme%2Feu%401");
    REQUIRE(c.status == 200);
    CHECK(c.json().at("company_id") == "acme/eu@1");
}

TEST_CASE("an id of exactly 255 bytes is stored and read back", "[identify][integration]")
{
    test_daemon d;
    std::string id(255, 'x');
    REQUIRE(d.identify("{\"user_id\":\"" + id + "\",\"company\":{\"id\":\"" + id + "\"}}").status == 202);
    CHECK(get_user(d, id).at("user_id") == id.c_str());
    CHECK(d.call("GET", "/v1/companies/" + id).status == 200);
}

TEST_CASE("another project's users and companies are invisible", "[identify][integration]")
{
    test_daemon d;
    std::string other = create_key(d.data_dir(), "other", "secret");
    REQUIRE(d.identify(R"({"user_id":"shared","metadata":{"secret_plan":"gold"},"company":{"id":"acme","mrr":999}})")
                .status == 202);

    SECTION("reads with the other project's key are 404 and disclose nothing")
    {
        auto user = http_call(d.port(), "GET", "/v1/users/shared", "", {{"Authorization", "Bearer " + other}});
        check_error(user, 404, "not_found");
        CHECK(user.body.find("gold") == std::string::npos);
        auto company = http_call(d.port(), "GET", "/v1/companies/acme", "", {{"Authorization", "Bearer " + other}});
        check_error(company, 404, "not_found");
        CHECK(company.body.find("999") == std::string::npos);
    }
    SECTION("the same ids in the other project are separate profiles")
    {
        REQUIRE(http_call(d.port(), "POST", "/v1/identify",
                          R"({"user_id":"shared","metadata":{"secret_plan":"tin"},"company":{"id":"acme"}})",
                          identify_headers(other))
                    .status == 202);
        auto theirs = http_call(d.port(), "GET", "/v1/users/shared", "", {{"Authorization", "Bearer " + other}});
        REQUIRE(theirs.status == 200);
        CHECK(theirs.json().at("properties") == boost::json::object{{"secret_plan", "tin"}});
        auto ours = get_user(d, "shared");
        CHECK(ours.at("properties") == boost::json::object{{"secret_plan", "gold"}});
        CHECK(ours.at("id") != theirs.json().at("id"));
        CHECK(d.call("GET", "/v1/companies/acme").json().at("properties") == boost::json::object{{"mrr", 999}});
    }
}

TEST_CASE("healthz and readyz answer without a key", "[health][integration]")
{
    test_daemon d;
    auto health = http_call(d.port(), "GET", "/healthz");
    CHECK(health.status == 200);
    CHECK(health.json().at("status") == "ok");
    auto ready = http_call(d.port(), "GET", "/readyz");
    CHECK(ready.status == 200);
    CHECK(ready.json().at("status") == "ready");
    check_error(http_call(d.port(), "POST", "/healthz"), 405, "method_not_allowed");
}
