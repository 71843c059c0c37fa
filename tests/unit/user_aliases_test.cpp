// Aliases on a real SQLite store: merging profiles, chains, conflicts, and writes that follow aliases.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <tuple>

#include <boost/json/parse.hpp>
#include <catch2/catch.hpp>

#include "common/profiles/user_writes.hpp"
#include "common/store/store.hpp"
#include "tests/support/test_stores.hpp"
#include "tests/support/store_batches.hpp"

using namespace profiled;
namespace json = boost::json;

namespace {

// A fresh database with one project, and helpers to write in a transaction and read back.
class alias_store {
public:
    explicit alias_store(test::store_engine engine) : db_(engine), writer_(db_->open_writer()), reader_(db_->open_reader())
    {
        project_ = writer_->ensure_project("default", 1);
    }

    // Applies one operation in a batch of its own; throws api_exception when it was refused.
    operation_outcome write(store_operation op) { return test::apply_one(*writer_, std::move(op)); }

    // Writes a user as POST /v1/users would, at time now.
    void user(const std::string& user_id, const std::string& properties, std::int64_t now,
              std::optional<std::string> email = std::nullopt)
    {
        user_change change;
        change.user_id = user_id;
        change.email = std::move(email);
        change.properties = json::parse(properties).as_object();
        write(upsert_user(project_, change, now));
    }

    // The alias operation in a batch of its own.
    void alias(const std::string& alias_id, const std::string& original_id, std::int64_t now = 100)
    {
        write(alias_user{project_, alias_id, original_id, now});
    }

    // The profile a read of user_id returns.
    std::optional<user_profile> find(const std::string& user_id) { return reader_->find_user(project_, user_id); }

    std::int64_t project() const { return project_; }

private:
    test::scratch_store db_;
    std::unique_ptr<store_writer> writer_;
    std::unique_ptr<store_reader> reader_;
    std::int64_t project_ = 0;
};

// The api_error an alias operation is refused with, or nothing when it succeeds.
std::optional<api_error> alias_error(alias_store& s, const std::string& alias_id, const std::string& original_id)
{
    try {
        s.alias(alias_id, original_id);
    } catch (const api_exception& e) {
        return e.error();
    }
    return std::nullopt;
}

} // namespace

TEST_CASE("aliasing merges the anonymous profile into the permanent one, set-once", "[aliases][merge]")
{
    auto engine = GENERATE(test::sqlite, test::postgres);
    CAPTURE(test::engine_name(engine));
    alias_store s(engine);
    s.user("anon_456", R"({"plan":"free","referrer":"ads","shared":"anon"})", 10, "anon@example.com");
    s.user("user_123", R"({"plan":"pro","shared":null})", 20);
    auto permanent_id = s.find("user_123")->id;

    s.alias("user_123", "anon_456", 30);

    auto merged = s.find("user_123");
    REQUIRE(merged);
    CHECK(merged->id == permanent_id);
    CHECK(merged->user_id == "user_123");
    CHECK(merged->properties.at("plan") == "pro");       // the permanent value wins
    CHECK(merged->properties.at("referrer") == "ads");   // absent: taken from the anonymous profile
    CHECK(merged->properties.at("shared").is_null());    // a stored null counts as present
    CHECK(merged->email == std::optional<std::string>("anon@example.com"));
    CHECK(merged->created_at == 10);
    CHECK(merged->updated_at == 30);
    CHECK(merged->aliases == std::vector<std::string>{"anon_456"});

    auto through_alias = s.find("anon_456");
    REQUIRE(through_alias);
    CHECK(through_alias->id == permanent_id);
}

TEST_CASE("aliasing moves an anonymous profile to a permanent id that has none", "[aliases][merge]")
{
    auto engine = GENERATE(test::sqlite, test::postgres);
    CAPTURE(test::engine_name(engine));
    alias_store s(engine);
    s.user("anon_1", R"({"seen":true})", 10);
    auto anonymous_id = s.find("anon_1")->id;

    s.alias("user_1", "anon_1");

    auto moved = s.find("user_1");
    REQUIRE(moved);
    CHECK(moved->user_id == "user_1");
    CHECK(moved->id == anonymous_id);
    CHECK(moved->properties.at("seen") == true);
    CHECK(moved->aliases == std::vector<std::string>{"anon_1"});
    CHECK(s.find("anon_1")->user_id == "user_1");
}

TEST_CASE("an alias recorded before any profile sends later writes to the permanent id", "[aliases][writes]")
{
    auto engine = GENERATE(test::sqlite, test::postgres);
    CAPTURE(test::engine_name(engine));
    alias_store s(engine);
    s.alias("user_1", "anon_1");
    CHECK_FALSE(s.find("user_1"));

    s.user("anon_1", R"({"via":"identify"})", 20);
    people_operations ops;
    ops.add["visits"] = 2;
    s.write(update_people{s.project(), "anon_1", ops, 30});

    auto user = s.find("user_1");
    REQUIRE(user);
    CHECK(user->user_id == "user_1");
    CHECK(user->properties.at("via") == "identify");
    CHECK(user->properties.at("visits") == 2);
    CHECK(user->aliases == std::vector<std::string>{"anon_1"});
}

TEST_CASE("alias chains are flattened so every id resolves in one step", "[aliases][chains]")
{
    auto engine = GENERATE(test::sqlite, test::postgres);
    CAPTURE(test::engine_name(engine));
    alias_store s(engine);
    s.user("device_a", R"({"a":1})", 10);
    s.user("session_b", R"({"b":2})", 11);
    s.user("user_c", R"({"c":3})", 12);

    SECTION("aliasing an id that others resolve to moves them along")
    {
        s.alias("session_b", "device_a");
        s.alias("user_c", "session_b");
        for (const char* id : {"device_a", "session_b", "user_c"}) {
            CAPTURE(id);
            auto u = s.find(id);
            REQUIRE(u);
            CHECK(u->user_id == "user_c");
            CHECK(u->aliases == std::vector<std::string>{"device_a", "session_b"});
            CHECK(u->properties == json::parse(R"({"c":3,"b":2,"a":1})").as_object());
        }
    }
    SECTION("an alias_id that is itself an alias links to the user it resolves to")
    {
        s.alias("user_c", "session_b");
        s.alias("session_b", "device_a");
        auto u = s.find("device_a");
        REQUIRE(u);
        CHECK(u->user_id == "user_c");
        CHECK(u->aliases == std::vector<std::string>{"device_a", "session_b"});
    }
}

TEST_CASE("conflicting aliases are refused and change nothing", "[aliases][conflicts]")
{
    auto engine = GENERATE(test::sqlite, test::postgres);
    CAPTURE(test::engine_name(engine));
    alias_store s(engine);
    s.user("user_1", R"({"n":1})", 10);
    s.user("user_2", R"({"n":2})", 10);
    s.alias("user_1", "anon");

    SECTION("an id already aliased to another user: 409")
    {
        auto e = alias_error(s, "user_2", "anon");
        REQUIRE(e);
        CHECK(e->kind == errc::conflict);
        CHECK(e->code == "alias_conflict");
        CHECK(s.find("anon")->user_id == "user_1");
        CHECK(s.find("user_2")->aliases.empty());
    }
    SECTION("a cycle: 409")
    {
        auto e = alias_error(s, "anon", "user_1");
        REQUIRE(e);
        CHECK(e->kind == errc::conflict);
        CHECK(e->code == "alias_cycle");
        CHECK(s.find("user_1")->user_id == "user_1");
    }
    SECTION("the same id twice: 400")
    {
        auto e = alias_error(s, "user_2", "user_2");
        REQUIRE(e);
        CHECK(e->kind == errc::bad_request);
        CHECK(e->code == "same_ids");
    }
    SECTION("repeating an alias, directly or through another alias, is a no-op")
    {
        s.alias("user_1", "anon_2");
        CHECK_FALSE(alias_error(s, "user_1", "anon"));
        CHECK_FALSE(alias_error(s, "anon_2", "anon"));
        CHECK(s.find("user_1")->aliases == std::vector<std::string>{"anon", "anon_2"});
    }
}
