// How identify changes merge into stored users and companies: the rules as the store engine applies them
// inside the database (one upsert per row), checked by reading the profile back.
#include <optional>
#include <string>

#include <boost/json/value.hpp>
#include <catch2/catch.hpp>

#include "common/profiles/user_writes.hpp"
#include "tests/support/test_stores.hpp"
#include "tests/support/store_batches.hpp"

using namespace profiled;
namespace json = boost::json;

namespace {

// A store in a scratch directory with one project, written through its writer and read back through a reader.
class merge_engine {
public:
    explicit merge_engine(test::store_engine engine) : db_(engine), writer_(db_->open_writer()), reader_(db_->open_reader())
    {
        project_ = writer_->ensure_project("default", 1);
    }

    // Applies one operation in a batch of its own.
    operation_outcome write(store_operation op) { return test::apply_one(*writer_, std::move(op)); }
    // Applies a user change at time now.
    upsert_outcome user(const user_change& change, std::int64_t now)
    {
        return write(upsert_user(project_, change, now, true)).upserts.front();
    }
    // Applies a company change at time now.
    void company(const company_change& change, std::int64_t now) { write(upsert_company(project_, change, now)); }
    // The project every change goes to.
    std::int64_t project() const { return project_; }
    // The stored user.
    user_profile read_user(const std::string& id) { return reader_->find_user(project_, id).value(); }
    // The stored company.
    company_profile read_company(const std::string& id) { return reader_->find_company(project_, id).value(); }

private:
    test::scratch_store db_;
    std::unique_ptr<store_writer> writer_;
    std::unique_ptr<store_reader> reader_;
    std::int64_t project_ = 0;
};

// The change that makes the stored user an earlier identify left.
user_change first_change()
{
    user_change c;
    c.user_id = "user_001";
    c.email = "jane@example.com";
    c.company_id = "company_001";
    c.properties = {{"name", "Jane Doe"}, {"plan", "free"}, {"logins", 3}};
    c.origin = {{"channel", "ios-app"}};
    return c;
}

} // namespace

TEST_CASE("a first change creates the user with a fresh internal id", "[merge]")
{
    auto kind = GENERATE(test::sqlite, test::postgres);
    CAPTURE(test::engine_name(kind));
    merge_engine engine(kind);
    user_change change;
    change.user_id = "user_001";
    change.properties = {{"name", "Jane Doe"}, {"vip", nullptr}};
    upsert_outcome outcome = engine.user(change, 5000);
    CHECK(outcome.created);
    user_profile u = engine.read_user("user_001");

    CHECK(u.user_id == "user_001");
    CHECK(u.id == outcome.public_id);
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
        change.user_id = "user_002";
        CHECK(engine.user(change, 5000).public_id != u.id);
    }
    SECTION("a second change of the same user is an update with the same id")
    {
        upsert_outcome again = engine.user(change, 6000);
        CHECK_FALSE(again.created);
        CHECK(again.public_id == u.id);
    }
}

TEST_CASE("a change to an existing user merges key by key", "[merge]")
{
    auto kind = GENERATE(test::sqlite, test::postgres);
    CAPTURE(test::engine_name(kind));
    merge_engine engine(kind);
    engine.user(first_change(), 1000);
    const user_profile before = engine.read_user("user_001");
    user_change change;
    change.user_id = "user_001";

    SECTION("given keys overwrite, missing keys stay, new keys are added")
    {
        change.properties = {{"plan", "pro"}, {"seats", 5}};
        engine.user(change, 9000);
        user_profile u = engine.read_user("user_001");
        CHECK(u.properties == json::object{{"name", "Jane Doe"}, {"plan", "pro"}, {"logins", 3}, {"seats", 5}});
    }
    SECTION("null is stored as null, not as a removal")
    {
        change.properties = {{"name", nullptr}};
        engine.user(change, 9000);
        user_profile u = engine.read_user("user_001");
        REQUIRE(u.properties.contains("name"));
        CHECK(u.properties.at("name").is_null());
        CHECK(u.properties.at("plan") == "free");
    }
    SECTION("a nested value replaces the stored value whole")
    {
        change.properties = {{"logins", json::object{{"web", 1}}}};
        engine.user(change, 9000);
        CHECK(engine.read_user("user_001").properties.at("logins") == json::object{{"web", 1}});
    }
    SECTION("created_at and the internal id are kept, updated_at moves to now")
    {
        engine.user(change, 9000);
        user_profile u = engine.read_user("user_001");
        CHECK(u.id == before.id);
        CHECK(u.user_id == before.user_id);
        CHECK(u.created_at == 1000);
        CHECK(u.updated_at == 9000);
    }
    SECTION("an empty change keeps every stored field")
    {
        engine.user(change, 9000);
        user_profile u = engine.read_user("user_001");
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
        engine.user(change, 9000);
        user_profile u = engine.read_user("user_001");
        CHECK(u.company_id == "company_002");
        CHECK(u.phone == "+1234567890");
        CHECK(u.email == "jane@example.com");
        CHECK(u.origin == json::object{{"channel", "ios-app"}, {"campaign", "spring-launch"}});
    }
    SECTION("a change sent to an alias lands on the user it names")
    {
        engine.write(alias_user{engine.project(), "user_001", "anon_1", 2000});
        change.user_id = "anon_1";
        change.properties = {{"plan", "team"}};
        CHECK_FALSE(engine.user(change, 9000).created);
        CHECK(engine.read_user("user_001").properties.at("plan") == "team");
    }
}

TEST_CASE("company changes merge like user properties", "[merge]")
{
    auto kind = GENERATE(test::sqlite, test::postgres);
    CAPTURE(test::engine_name(kind));
    merge_engine engine(kind);
    engine.company({"company_001", {{"name", "Acme"}, {"size", nullptr}}}, 1000);
    company_profile created = engine.read_company("company_001");
    CHECK(created.company_id == "company_001");
    CHECK(created.created_at == 1000);
    CHECK(created.updated_at == 1000);
    CHECK(created.properties.at("size").is_null());

    engine.company({"company_001", {{"plan", "enterprise"}, {"name", "Acme Inc."}}}, 4000);
    company_profile updated = engine.read_company("company_001");
    CHECK(updated.properties == json::object{{"name", "Acme Inc."}, {"size", nullptr}, {"plan", "enterprise"}});
    CHECK(updated.created_at == 1000);
    CHECK(updated.updated_at == 4000);
}
