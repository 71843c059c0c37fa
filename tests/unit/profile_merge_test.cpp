// How identify changes merge into stored users and companies.
#include <optional>
#include <string>

#include <boost/json/value.hpp>
#include <catch2/catch.hpp>

#include "common/profiles/profile_merge.hpp"

using namespace profiled;
namespace json = boost::json;

namespace {

// A stored user as an earlier identify left it.
user_profile stored_user()
{
    user_profile u;
    u.user_id = "user_001";
    u.id = "usr_AAAAAAAAAAAAAAAA";
    u.email = "jane@example.com";
    u.company_id = "company_001";
    u.properties = {{"name", "Jane Doe"}, {"plan", "free"}, {"logins", 3}};
    u.origin = {{"channel", "ios-app"}};
    u.created_at = 1000;
    u.updated_at = 2000;
    return u;
}

} // namespace

TEST_CASE("a first change creates the user with a fresh internal id", "[merge]")
{
    user_change change;
    change.user_id = "user_001";
    change.properties = {{"name", "Jane Doe"}, {"vip", nullptr}};
    user_profile u = apply_user_change(std::nullopt, change, 5000);

    CHECK(u.user_id == "user_001");
    REQUIRE(u.id.size() == 20);
    CHECK(u.id.rfind("usr_", 0) == 0);
    CHECK(u.id.find_first_not_of("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", 4) ==
          std::string::npos);
    CHECK(u.created_at == 5000);
    CHECK(u.updated_at == 5000);
    CHECK(u.properties.at("name") == "Jane Doe");
    CHECK(u.properties.at("vip").is_null());
    CHECK_FALSE(u.email);
    CHECK_FALSE(u.company_id);

    SECTION("two new users never share an internal id")
    {
        CHECK(apply_user_change(std::nullopt, change, 5000).id != u.id);
    }
}

TEST_CASE("a change to an existing user merges key by key", "[merge]")
{
    const user_profile before = stored_user();
    user_change change;
    change.user_id = "user_001";

    SECTION("given keys overwrite, missing keys stay, new keys are added")
    {
        change.properties = {{"plan", "pro"}, {"seats", 5}};
        user_profile u = apply_user_change(before, change, 9000);
        CHECK(u.properties == json::object{{"name", "Jane Doe"}, {"plan", "pro"}, {"logins", 3}, {"seats", 5}});
    }
    SECTION("null is stored as null, not as a removal")
    {
        change.properties = {{"name", nullptr}};
        user_profile u = apply_user_change(before, change, 9000);
        REQUIRE(u.properties.contains("name"));
        CHECK(u.properties.at("name").is_null());
        CHECK(u.properties.at("plan") == "free");
    }
    SECTION("a nested value replaces the stored value whole")
    {
        change.properties = {{"logins", json::object{{"web", 1}}}};
        user_profile u = apply_user_change(before, change, 9000);
        CHECK(u.properties.at("logins") == json::object{{"web", 1}});
    }
    SECTION("created_at and the internal id are kept, updated_at moves to now")
    {
        user_profile u = apply_user_change(before, change, 9000);
        CHECK(u.id == before.id);
        CHECK(u.user_id == before.user_id);
        CHECK(u.created_at == 1000);
        CHECK(u.updated_at == 9000);
    }
    SECTION("an empty change keeps every stored field")
    {
        user_profile u = apply_user_change(before, change, 9000);
        CHECK(u.properties == before.properties);
        CHECK(u.origin == before.origin);
        CHECK(u.email == before.email);
        CHECK(u.company_id == before.company_id);
    }
    SECTION("top-level fields change only when given")
    {
        change.company_id = "company_002";
        change.phone = "+1234567890";
        change.origin = {{"campaign", "spring-launch"}};
        user_profile u = apply_user_change(before, change, 9000);
        CHECK(u.company_id == "company_002");
        CHECK(u.phone == "+1234567890");
        CHECK(u.email == "jane@example.com");
        CHECK(u.origin == json::object{{"channel", "ios-app"}, {"campaign", "spring-launch"}});
    }
}

TEST_CASE("company changes merge like user properties", "[merge]")
{
    company_change change{"company_001", {{"name", "Acme"}, {"size", nullptr}}};
    company_profile created = apply_company_change(std::nullopt, change, 1000);
    CHECK(created.company_id == "company_001");
    CHECK(created.created_at == 1000);
    CHECK(created.updated_at == 1000);
    CHECK(created.properties.at("size").is_null());

    company_change later{"company_001", {{"plan", "enterprise"}, {"name", "Acme Inc."}}};
    company_profile updated = apply_company_change(created, later, 4000);
    CHECK(updated.properties == json::object{{"name", "Acme Inc."}, {"size", nullptr}, {"plan", "enterprise"}});
    CHECK(updated.created_at == 1000);
    CHECK(updated.updated_at == 4000);
}
