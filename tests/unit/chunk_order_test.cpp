// A chunk of upserts may run in the engine's own order (the SQLite engine sorts by id for index locality), but
// never so that it shows: rows naming one user or company merge in the chunk's order, directly or through an
// alias, and the created/updated outcomes come back in the rows' order.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <boost/json/parse.hpp>
#include <catch2/catch.hpp>

#include "common/store/open_store.hpp"
#include "common/store/store.hpp"
#include "tests/support/scratch_dir.hpp"
#include "tests/support/store_batches.hpp"

using namespace profiled;
namespace json = boost::json;

namespace {

// A user row of a chunk: only id and properties.
user_upsert user_row(std::string user_id, std::string properties)
{
    user_upsert row;
    row.user_id = std::move(user_id);
    row.properties = std::move(properties);
    return row;
}

// A fresh store with one project.
struct chunk_store {
    test::scratch_dir dir;
    std::unique_ptr<store> db = open_store(dir.path());
    std::unique_ptr<store_writer> writer = db->open_writer();
    std::unique_ptr<store_reader> reader = db->open_reader();
    std::int64_t project = writer->ensure_project("default", 1);

    // Upserts the rows as one chunk and returns what each row did.
    std::vector<upsert_outcome> chunk(std::vector<user_upsert> rows, bool report = true)
    {
        return test::apply_one(*writer, upsert_users{project, std::move(rows), 1000, report}).upserts;
    }
    // Whether the stored properties of a user are those the JSON text holds.
    bool has_properties(const std::string& user_id, const std::string& expected)
    {
        auto u = reader->find_user(project, user_id);
        REQUIRE(u);
        return u->properties == json::parse(expected).as_object();
    }
};

} // namespace

TEST_CASE("rows of one user in a chunk merge in the chunk's order, ids out of order around them", "[store][chunks]")
{
    chunk_store s;
    auto outcomes = s.chunk({user_row("u_9", R"({"a":1})"), user_row("u_5", R"({"n":1})"), user_row("u_1", "{}"),
                             user_row("u_5", R"({"n":2,"b":true})"), user_row("u_0", "{}"),
                             user_row("u_5", R"({"n":3})")});
    CHECK(s.has_properties("u_5", R"({"n":3,"b":true})"));
    CHECK(s.has_properties("u_9", R"({"a":1})"));
    // Outcomes in the rows' order: the first row of u_5 created it, the later two updated it.
    REQUIRE(outcomes.size() == 6);
    CHECK(outcomes[0].created);
    CHECK(outcomes[1].created);
    CHECK(outcomes[2].created);
    CHECK_FALSE(outcomes[3].created);
    CHECK(outcomes[4].created);
    CHECK_FALSE(outcomes[5].created);
    CHECK(outcomes[1].public_id == outcomes[3].public_id);
    CHECK(outcomes[3].public_id == outcomes[5].public_id);
    CHECK(outcomes[0].public_id != outcomes[1].public_id);
}

TEST_CASE("rows naming one user by an alias and by its own id merge in the chunk's order", "[store][chunks]")
{
    chunk_store s;
    s.chunk({user_row("z_user", R"({"plan":"free"})")});
    test::apply_one(*s.writer, alias_user{s.project, "a_alias", "z_user", 100});
    // "a_alias" sorts before "z_user": applied in id order, the alias row would come first and lose.
    s.chunk({user_row("z_user", R"({"plan":"pro"})"), user_row("a_alias", R"({"plan":"team"})"),
             user_row("z_user", R"({"seats":3})")},
            false);
    CHECK(s.has_properties("z_user", R"({"plan":"team","seats":3})"));
    CHECK(s.has_properties("a_alias", R"({"plan":"team","seats":3})"));
}

TEST_CASE("rows of one company in a chunk merge in the chunk's order", "[store][chunks]")
{
    chunk_store s;
    std::vector<company_upsert> rows;
    for (auto [id, properties] : {std::pair{"c_2", R"({"x":1})"}, std::pair{"c_1", R"({"y":1})"},
                                  std::pair{"c_2", R"({"x":2})"}, std::pair{"c_0", "{}"}}) {
        company_upsert row;
        row.company_id = id;
        row.properties = properties;
        rows.push_back(row);
    }
    test::apply_one(*s.writer, upsert_companies{s.project, rows, 1000});
    auto c = s.reader->find_company(s.project, "c_2");
    REQUIRE(c);
    CHECK(c->properties == json::parse(R"({"x":2})").as_object());
}
