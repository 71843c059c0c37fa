// The People API's write step on a real SQLite store: creation, contact fields, refusals.
#include <memory>
#include <optional>
#include <string>

#include <boost/json/parse.hpp>
#include <catch2/catch.hpp>

#include "common/profiles/people_operations.hpp"
#include "common/profiles/user_writes.hpp"
#include "common/store/store.hpp"
#include "tests/support/test_stores.hpp"
#include "tests/support/store_batches.hpp"

using namespace profiled;
namespace json = boost::json;

namespace {

// A fresh database with one project; apply() runs a people update in a batch of its own.
class people_store {
public:
    explicit people_store(test::store_engine engine) : db_(engine), writer_(db_->open_writer()), reader_(db_->open_reader())
    {
        project_ = writer_->ensure_project("default", 1);
    }

    // Applies the operations (JSON text) to distinct_id; throws api_exception when refused.
    void apply(const std::string& distinct_id, const std::string& operations, std::int64_t now = 50)
    {
        auto ops = parse_people_operations(json::parse(operations).as_object());
        REQUIRE(ops.has_value());
        test::apply_one(*writer_, update_people{project_, distinct_id, *ops, now});
    }

    // Writes email through the Users API's upsert.
    void set_email(const std::string& user_id, const std::string& email)
    {
        user_change change;
        change.user_id = user_id;
        change.email = email;
        test::apply_one(*writer_, upsert_user(project_, change, 40));
    }

    std::optional<user_profile> find(const std::string& user_id) { return reader_->find_user(project_, user_id); }

private:
    test::scratch_store db_;
    std::unique_ptr<store_writer> writer_;
    std::unique_ptr<store_reader> reader_;
    std::int64_t project_ = 0;
};

} // namespace

TEST_CASE("people updates create the profile when it is absent", "[people_writes]")
{
    auto engine = GENERATE(test::sqlite, test::postgres);
    CAPTURE(test::engine_name(engine));
    people_store s(engine);
    s.apply("user_123", R"({"$add":{"login_count":1}})", 50);
    auto u = s.find("user_123");
    REQUIRE(u);
    CHECK(u->properties == json::parse(R"({"login_count":1})").as_object());
    CHECK(u->created_at == 50);
    CHECK(u->id.rfind("usr_", 0) == 0);
    CHECK_FALSE(u->email);
}

TEST_CASE("the profile's email and phone follow $email and $phone", "[people_writes][contact]")
{
    auto engine = GENERATE(test::sqlite, test::postgres);
    CAPTURE(test::engine_name(engine));
    people_store s(engine);
    s.apply("u", R"({"$set":{"$email":"a@example.com","$phone":"+14155550123"}})");
    CHECK(s.find("u")->email == std::optional<std::string>("a@example.com"));
    CHECK(s.find("u")->phone == std::optional<std::string>("+14155550123"));

    SECTION("$set_once leaves a present $email and the email as they are")
    {
        s.apply("u", R"({"$set_once":{"$email":"b@example.com"}})");
        CHECK(s.find("u")->email == std::optional<std::string>("a@example.com"));
    }
    SECTION("$unset clears the email; null clears the phone")
    {
        s.apply("u", R"({"$unset":["$email"],"$set":{"$phone":null}})");
        auto u = s.find("u");
        CHECK_FALSE(u->email);
        CHECK_FALSE(u->phone);
        CHECK_FALSE(u->properties.contains("$email"));
        CHECK(u->properties.at("$phone").is_null());
    }
    SECTION("a request that does not touch $email keeps an email set through the Users API")
    {
        s.set_email("u", "users-api@example.com");
        s.apply("u", R"({"$set":{"plan":"pro"}})");
        CHECK(s.find("u")->email == std::optional<std::string>("users-api@example.com"));
    }
}

TEST_CASE("a refused people update leaves the stored profile untouched", "[people_writes][atomicity]")
{
    auto engine = GENERATE(test::sqlite, test::postgres);
    CAPTURE(test::engine_name(engine));
    people_store s(engine);
    s.apply("u", R"({"$set":{"name":"Ann","plan":"free"}})", 50);
    auto before = s.find("u");

    try {
        s.apply("u", R"({"$set":{"plan":"pro","$email":"a@example.com"},"$add":{"name":1}})", 60);
        FAIL("the update was not refused");
    } catch (const api_exception& e) {
        CHECK(e.error().code == "type_conflict");
        CHECK(e.error().field == "operations.$add.name");
    }
    auto after = s.find("u");
    CHECK(after->properties == before->properties);
    CHECK_FALSE(after->email);
    CHECK(after->updated_at == 50);
}
