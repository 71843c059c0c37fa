// Pages of a project's users and companies through the store interface, on both engines.
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "common/store/store.hpp"
#include "tests/support/store_batches.hpp"
#include "tests/support/test_stores.hpp"

using namespace profiled;

namespace {

// A user with one property.
user_upsert user_row(const std::string& user_id)
{
    user_upsert u;
    u.user_id = user_id;
    u.properties = R"({"plan":"pro"})";
    return u;
}

// Every user id of the project's listing, page by page of the given size, updated at or after since.
std::vector<std::string> all_pages(store_reader& r, std::int64_t project, int limit,
                                   std::optional<std::int64_t> since = std::nullopt)
{
    std::vector<std::string> ids;
    std::optional<std::string> cursor;
    for (int pages = 0; pages < 100; ++pages) {
        auto page = r.list_users(project, cursor, since, limit);
        REQUIRE(page);
        CHECK(static_cast<int>(page->users.size()) <= limit);
        for (const auto& u : page->users)
            ids.push_back(u.user_id);
        if (!page->next_cursor)
            return ids;
        cursor = page->next_cursor;
    }
    FAIL("the listing never ended");
    return ids;
}

} // namespace

TEST_CASE("users list page by page in the order they were first stored", "[store][listing]")
{
    auto engine = GENERATE(test::sqlite, test::postgres);
    CAPTURE(test::engine_name(engine));
    test::scratch_store db(engine);
    auto w = db->open_writer();
    auto r = db->open_reader();
    std::int64_t p = w->ensure_project("alpha", 1000);
    std::int64_t other = w->ensure_project("beta", 1000);
    std::vector<std::string> made;
    for (int i = 0; i < 7; ++i) {
        made.push_back("user_" + std::to_string(7 - i)); // ids in the opposite order of their creation
        test::apply_one(*w, upsert_users{p, {user_row(made.back())}, 1000 + i});
    }
    test::apply_one(*w, upsert_users{other, {user_row("someone_else")}, 1000});
    test::apply_one(*w, alias_user{p, "user_7", "anon_7", 2000});

    SECTION("every page size walks every user once, in creation order")
    {
        auto size = GENERATE(1, 2, 3, 7, 8, 1000);
        CAPTURE(size);
        CHECK(all_pages(*r, p, size) == made);
    }
    SECTION("a page shows each user as a single read does, aliases included")
    {
        auto page = r->list_users(p, std::nullopt, std::nullopt, 1);
        REQUIRE(page);
        REQUIRE(page->users.size() == 1);
        auto single = r->find_user(p, "user_7");
        CHECK(page->users[0].user_id == single->user_id);
        CHECK(page->users[0].id == single->id);
        CHECK(page->users[0].aliases == std::vector<std::string>{"anon_7"});
        CHECK(page->users[0].properties == single->properties);
        CHECK(page->users[0].updated_at == single->updated_at);
    }
    SECTION("updated_since keeps the users updated at or after it")
    {
        CHECK(all_pages(*r, p, 2, 1005) == std::vector<std::string>{"user_2", "user_1"});
        test::apply_one(*w, upsert_users{p, {user_row("user_5")}, 9000});
        CHECK(all_pages(*r, p, 2, 1005) == std::vector<std::string>{"user_5", "user_2", "user_1"});
        CHECK(all_pages(*r, p, 2, 9001).empty());
    }
    SECTION("an update between two pages neither skips nor repeats a user")
    {
        auto first = r->list_users(p, std::nullopt, std::nullopt, 3);
        REQUIRE(first);
        REQUIRE(first->next_cursor);
        // The first page's users and a later one change; new users arrive.
        test::apply_one(*w, upsert_users{p, {user_row("user_7"), user_row("user_2"), user_row("newcomer")}, 5000});
        std::vector<std::string> seen;
        for (const auto& u : first->users)
            seen.push_back(u.user_id);
        std::optional<std::string> cursor = first->next_cursor;
        while (cursor) {
            auto page = r->list_users(p, cursor, std::nullopt, 3);
            REQUIRE(page);
            for (const auto& u : page->users)
                seen.push_back(u.user_id);
            cursor = page->next_cursor;
        }
        auto expected = made;
        expected.push_back("newcomer");
        CHECK(seen == expected);
    }
    SECTION("another project's users are not listed")
    {
        CHECK(all_pages(*r, other, 10) == std::vector<std::string>{"someone_else"});
        CHECK(all_pages(*r, w->ensure_project("gamma", 1000), 10).empty());
    }
    SECTION("cursors the store did not hand out are refused")
    {
        for (std::string bad : {"", "u", "u0", "u-1", "u+5", "x5", "c5", "u5 ", "u99999999999999999999", "j5"}) {
            CAPTURE(bad);
            CHECK_FALSE(r->list_users(p, bad, std::nullopt, 10));
        }
        auto page = r->list_users(p, std::nullopt, std::nullopt, 2);
        REQUIRE(page->next_cursor);
        CHECK_FALSE(r->list_companies(p, page->next_cursor, std::nullopt, 10));
    }
}

TEST_CASE("companies list page by page in the order they were first stored", "[store][listing]")
{
    auto engine = GENERATE(test::sqlite, test::postgres);
    CAPTURE(test::engine_name(engine));
    test::scratch_store db(engine);
    auto w = db->open_writer();
    auto r = db->open_reader();
    std::int64_t p = w->ensure_project("alpha", 1000);
    std::int64_t other = w->ensure_project("beta", 1000);
    for (int i = 0; i < 5; ++i)
        test::apply_one(*w, upsert_companies{p, {{"co_" + std::to_string(5 - i), R"({"n":1})"}}, 1000 + i});
    test::apply_one(*w, upsert_companies{other, {{"elsewhere", "{}"}}, 1000});

    std::vector<std::string> seen;
    std::optional<std::string> cursor;
    do {
        auto page = r->list_companies(p, cursor, std::nullopt, 2);
        REQUIRE(page);
        for (const auto& c : page->companies) {
            seen.push_back(c.company_id);
            CHECK(c.properties == boost::json::object{{"n", 1}});
        }
        cursor = page->next_cursor;
    } while (cursor);
    CHECK(seen == std::vector<std::string>{"co_5", "co_4", "co_3", "co_2", "co_1"});
    auto recent = r->list_companies(p, std::nullopt, 1003, 10);
    REQUIRE(recent);
    REQUIRE(recent->companies.size() == 2);
    CHECK(recent->companies[0].company_id == "co_2");
    CHECK_FALSE(recent->next_cursor);
    CHECK_FALSE(r->list_companies(p, std::string("u1"), std::nullopt, 10));
}
