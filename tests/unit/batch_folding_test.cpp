// A writer may apply a batch's upserts together (the PostgreSQL engine folds a group of identifies, and a chunk,
// into one statement), but never so that it shows: each user's and company's changes merge in the order they were
// submitted, across submissions and projects, around refused ones, and through aliases in large chunks too.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <boost/json/parse.hpp>
#include <catch2/catch.hpp>

#include "common/profiles/people_operations.hpp"
#include "common/store/store.hpp"
#include "tests/support/store_batches.hpp"
#include "tests/support/test_stores.hpp"

using namespace profiled;
namespace json = boost::json;

namespace {

// A user change: id and properties (JSON text), optionally a company.
user_upsert user_row(std::string user_id, std::string properties, std::optional<std::string> company = std::nullopt)
{
    user_upsert row;
    row.user_id = std::move(user_id);
    row.properties = std::move(properties);
    row.company_id = std::move(company);
    return row;
}

// An identify as its handler submits it: the company's upsert, then the user's.
std::vector<store_operation> identify(std::int64_t project, user_upsert user, std::string company,
                                      std::string company_properties, std::int64_t now)
{
    std::vector<store_operation> ops;
    ops.push_back(upsert_companies{project, {company_upsert{std::move(company), std::move(company_properties)}}, now});
    ops.push_back(upsert_users{project, {std::move(user)}, now});
    return ops;
}

// Appends one submission to a batch and closes its unit.
void submit(std::vector<store_operation>& batch, std::vector<std::size_t>& unit_ends, std::vector<store_operation> ops)
{
    for (auto& op : ops)
        batch.push_back(std::move(op));
    unit_ends.push_back(batch.size());
}

// The stored object as JSON text's object.
json::object object(const std::string& text) { return json::parse(text).as_object(); }

} // namespace

TEST_CASE("a group of identifies in one batch merges each user's and company's changes in submission order",
          "[store][batch][merge]")
{
    auto engine = GENERATE(test::sqlite, test::postgres);
    CAPTURE(test::engine_name(engine));
    test::scratch_store db(engine);
    auto writer = db->open_writer();
    std::int64_t a = writer->ensure_project("a", 1);
    std::int64_t b = writer->ensure_project("b", 1);

    std::vector<store_operation> batch;
    std::vector<std::size_t> ends;
    submit(batch, ends, identify(a, user_row("jane", R"({"plan":"free","n":1})", "acme"), "acme", R"({"tier":1})", 10));
    submit(batch, ends, identify(b, user_row("jane", R"({"other":true})", "globex"), "acme", R"({"tier":9})", 11));
    submit(batch, ends, identify(a, user_row("bob", R"({"n":1})"), "acme", R"({"tier":2,"x":null})", 12));
    submit(batch, ends, identify(a, user_row("jane", R"({"n":2,"trial":null})"), "initech", "{}", 13));
    submit(batch, ends, identify(a, user_row("jane", R"({"n":3})", "initech"), "acme", R"({"tier":3})", 14));
    auto outcomes = writer->apply(batch, ends);
    REQUIRE(outcomes.size() == batch.size());
    for (const auto& o : outcomes)
        CHECK_FALSE(o.refused);

    auto reader = db->open_reader();
    auto jane = reader->find_user(a, "jane");
    REQUIRE(jane);
    CHECK(jane->properties == object(R"({"plan":"free","n":3,"trial":null})"));
    CHECK(jane->company_id == "initech");
    CHECK(jane->created_at == 10);
    CHECK(jane->updated_at == 14);
    auto other_jane = reader->find_user(b, "jane");
    REQUIRE(other_jane);
    CHECK(other_jane->properties == object(R"({"other":true})"));
    CHECK(other_jane->company_id == "globex");
    auto acme = reader->find_company(a, "acme");
    REQUIRE(acme);
    CHECK(acme->properties == object(R"({"tier":3,"x":null})"));
    CHECK(acme->created_at == 10);
    CHECK(acme->updated_at == 14);
    auto other_acme = reader->find_company(b, "acme");
    REQUIRE(other_acme);
    CHECK(other_acme->properties == object(R"({"tier":9})"));
    CHECK(reader->find_company(a, "initech"));
    CHECK_FALSE(reader->find_company(b, "initech"));
}

TEST_CASE("a refused people update between identifies of its user leaves them applied, in order",
          "[store][batch][merge]")
{
    auto engine = GENERATE(test::sqlite, test::postgres);
    CAPTURE(test::engine_name(engine));
    test::scratch_store db(engine);
    auto writer = db->open_writer();
    std::int64_t project = writer->ensure_project("default", 1);
    auto refused_update = parse_people_operations(object(R"({"$set":{"lost":true},"$add":{"name":1}})"));
    auto counted_update = parse_people_operations(object(R"({"$add":{"logins":1}})"));
    REQUIRE(refused_update.has_value());
    REQUIRE(counted_update.has_value());

    std::vector<store_operation> batch;
    std::vector<std::size_t> ends;
    submit(batch, ends, identify(project, user_row("u", R"({"name":"Ann","step":1})"), "acme", "{}", 10));
    submit(batch, ends, {update_people{project, "u", *refused_update, 11}});
    submit(batch, ends, identify(project, user_row("u", R"({"step":2})"), "acme", "{}", 12));
    submit(batch, ends, {update_people{project, "u", *counted_update, 13}});
    submit(batch, ends, identify(project, user_row("u", R"({"step":3})"), "acme", "{}", 14));
    auto outcomes = writer->apply(batch, ends);
    REQUIRE(outcomes.size() == batch.size());
    CHECK_FALSE(outcomes[1].refused);
    REQUIRE(outcomes[2].refused);
    CHECK(outcomes[2].refused->code == "type_conflict");
    CHECK_FALSE(outcomes[5].refused);
    CHECK_FALSE(outcomes[6].refused);

    auto u = db->open_reader()->find_user(project, "u");
    REQUIRE(u);
    CHECK(u->properties == object(R"({"name":"Ann","step":3,"logins":1})"));
    CHECK(u->updated_at == 14);
}

TEST_CASE("a large chunk whose distinct ids name one user through an alias merges them in the chunk's order",
          "[store][batch][merge][aliases]")
{
    auto engine = GENERATE(test::sqlite, test::postgres);
    CAPTURE(test::engine_name(engine));
    test::scratch_store db(engine);
    auto writer = db->open_writer();
    std::int64_t project = writer->ensure_project("default", 1);
    test::apply_one(*writer, alias_user{project, "jane", "anon_1", 5});

    // No id repeats, and the chunk is large: only the alias makes rows 100 and 1900 the same user.
    std::vector<user_upsert> rows;
    for (int i = 0; i < 3000; ++i)
        rows.push_back(user_row("u" + std::to_string(i), R"({"i":)" + std::to_string(i) + "}"));
    rows[100] = user_row("jane", R"({"plan":"free","seats":1})");
    rows[1900] = user_row("anon_1", R"({"plan":"pro","trial":null})");
    rows[2500] = user_row("u2500", R"({"i":2500,"last":true})");
    test::apply_one(*writer, upsert_users{project, rows, 9, false});

    auto reader = db->open_reader();
    auto jane = reader->find_user(project, "jane");
    REQUIRE(jane);
    CHECK(jane->properties == object(R"({"plan":"pro","seats":1,"trial":null})"));
    CHECK_FALSE(reader->find_user(project, "u100"));
    auto last = reader->find_user(project, "u2500");
    REQUIRE(last);
    CHECK(last->properties == object(R"({"i":2500,"last":true})"));
    auto some = reader->find_user(project, "u2999");
    REQUIRE(some);
    CHECK(some->properties == object(R"({"i":2999})"));

    // The same chunk again (every user there now) after a people update in the same batch, as a job's chunk comes
    // after its checkpoint: inside a transaction this time. Merged, nothing new.
    auto counted = parse_people_operations(object(R"({"$add":{"logins":1}})"));
    REQUIRE(counted.has_value());
    rows[2500] = user_row("u2500", R"({"again":1})");
    std::vector<store_operation> batch;
    std::vector<std::size_t> ends;
    submit(batch, ends, {update_people{project, "u0", *counted, 10}});
    submit(batch, ends, {upsert_users{project, rows, 10, false}});
    for (const auto& o : writer->apply(batch, ends))
        CHECK_FALSE(o.refused);
    auto first = reader->find_user(project, "u0");
    REQUIRE(first);
    CHECK(first->properties == object(R"({"i":0,"logins":1})"));
    jane = reader->find_user(project, "jane");
    REQUIRE(jane);
    CHECK(jane->properties == object(R"({"plan":"pro","seats":1,"trial":null})"));
    last = reader->find_user(project, "u2500");
    REQUIRE(last);
    CHECK(last->properties == object(R"({"i":2500,"last":true,"again":1})"));
    CHECK(last->created_at == 9);
    CHECK(last->updated_at == 10);
}
