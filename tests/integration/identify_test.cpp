// POST /v1/identify and the profile reads, against the real daemon.
#include <catch2/catch.hpp>

#include "tests/support/test_daemon.hpp"

using namespace profiled::test;

TEST_CASE("identify stores a profile that reads back", "[identify][integration]")
{
    test_daemon d;
    auto r = d.identify(R"({"user_id":"user_001","metadata":{"name":"Jane Doe","email":"jane@example.com"},
                           "company":{"id":"company_001","plan":"pro"}})");
    REQUIRE(r.status == 202);
    CHECK(r.body == "{}");

    auto user = d.call("GET", "/v1/users/user_001");
    REQUIRE(user.status == 200);
    auto u = user.json().as_object();
    CHECK(u.at("user_id") == "user_001");
    CHECK(u.at("company_id") == "company_001");
    CHECK(u.at("properties").at("name") == "Jane Doe");
    CHECK(std::string(u.at("id").as_string()).rfind("usr_", 0) == 0);
    CHECK(u.at("id").as_string().size() == 20);

    auto company = d.call("GET", "/v1/companies/company_001");
    REQUIRE(company.status == 200);
    CHECK(company.json().at("properties").at("plan") == "pro");
}
