// GET /v1/users and GET /v1/companies page by page against the real daemon, on both engines.
#include <atomic>
#include <chrono>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <boost/json/value.hpp>
#include <catch2/catch.hpp>

#include "tests/support/api_checks.hpp"
#include "tests/support/bulk_jobs.hpp"
#include "tests/support/postgres_server.hpp"
#include "tests/support/test_daemon.hpp"

using namespace profiled::test;
namespace json = boost::json;

namespace {

// The daemon options of the named engine ("sqlite": its data directory; "postgres": a fresh database).
daemon_options on_engine(const std::string& engine)
{
    daemon_options o;
    if (engine == "postgres")
        o.database = fresh_postgres_url();
    return o;
}

// One page of a listing: its items (the array named list) and its next_cursor ("" on the last page).
struct listing_page {
    std::vector<json::object> items;
    std::string next_cursor;
};

// GET target, which must answer a page.
listing_page fetch_page(const test_daemon& d, const std::string& target, const std::string& list,
                        const header_list& headers = {})
{
    auto r = headers.empty() ? d.call("GET", target) : http_call(d.port(), "GET", target, "", headers);
    INFO(target << " " << r.status << " " << r.body);
    REQUIRE(r.status == 200);
    json::value body = r.json();
    REQUIRE(body.as_object().size() == 2);
    listing_page page;
    for (const auto& item : body.at(list).as_array())
        page.items.push_back(item.as_object());
    const auto& next = body.at("next_cursor");
    page.next_cursor = next.is_null() ? "" : std::string(next.as_string());
    return page;
}

// Every item of a listing, following next_cursor from page to page (query: what goes before the cursor).
std::vector<json::object> all_pages(const test_daemon& d, const std::string& path, const std::string& query,
                                    const std::string& list)
{
    std::vector<json::object> out;
    std::string cursor;
    for (int pages = 0; pages < 100000; ++pages) {
        std::string target = path + "?" + query + (cursor.empty() ? "" : "&cursor=" + cursor);
        auto page = fetch_page(d, target, list);
        out.insert(out.end(), page.items.begin(), page.items.end());
        if (page.next_cursor.empty())
            return out;
        cursor = page.next_cursor;
    }
    FAIL("the listing never ended");
    return out;
}

// The string field name of each item.
std::vector<std::string> ids_of(const std::vector<json::object>& items, const char* name)
{
    std::vector<std::string> ids;
    for (const auto& item : items)
        ids.push_back(string_field(item, name));
    return ids;
}

} // namespace

TEST_CASE("GET /v1/users pages through the project's users in the order they were first stored",
          "[listing][integration]")
{
    std::string engine = GENERATE("sqlite", "postgres");
    CAPTURE(engine);
    daemon_options options = on_engine(engine);
    test_daemon d({}, options);
    auto empty = fetch_page(d, "/v1/users", "users");
    CHECK(empty.items.empty());
    CHECK(empty.next_cursor.empty());

    std::vector<std::string> made;
    for (int i = 0; i < 5; ++i) {
        made.push_back("user_" + std::to_string(5 - i));
        REQUIRE(
            d.identify(R"({"user_id":")" + made.back() + R"(","metadata":{"n":)" + std::to_string(i) + "}}").status ==
            202);
        // Apart by more than the millisecond updated_at is kept in, so updated_since can fall between any two.
        std::this_thread::sleep_for(std::chrono::milliseconds(3));
    }
    REQUIRE(people_post(d, "/public/alias",
                        R"({"apiKey":")" + d.secret_key() + R"(","alias_id":"user_3","original_id":"anon_3"})")
                .status == 200);

    SECTION("every page size gives every user once, each as GET of the one user shows it")
    {
        auto limit = GENERATE(1, 2, 5, 6);
        CAPTURE(limit);
        auto users = all_pages(d, "/v1/users", "limit=" + std::to_string(limit), "users");
        CHECK(ids_of(users, "user_id") == made);
        for (const auto& u : users)
            CHECK(u == get_user(d, string_field(u, "user_id")));
    }
    SECTION("the default page holds up to 100 users")
    {
        auto page = fetch_page(d, "/v1/users", "users");
        CHECK(page.items.size() == 5);
        CHECK(page.next_cursor.empty());
    }
    SECTION("updated_since keeps the users updated at or after it")
    {
        std::string cut = string_field(get_user(d, "user_2"), "updated_at");
        CHECK(ids_of(all_pages(d, "/v1/users", "limit=1&updated_since=" + cut, "users"), "user_id") ==
              std::vector<std::string>{"user_2", "user_1"});
        REQUIRE(d.identify(R"({"user_id":"user_5","metadata":{"again":true}})").status == 202);
        CHECK(ids_of(all_pages(d, "/v1/users", "updated_since=" + cut, "users"), "user_id") ==
              std::vector<std::string>{"user_5", "user_2", "user_1"});
        CHECK(fetch_page(d, "/v1/users?updated_since=2999-01-01T00:00:00Z", "users").items.empty());
        CHECK(fetch_page(d, "/v1/users?updated_since=2000-01-01T01:00:00%2B01:00", "users").items.size() == 5);
    }
    SECTION("deleted users are no longer listed")
    {
        REQUIRE(d.call("DELETE", "/v1/users/user_4").status == 204);
        CHECK(ids_of(all_pages(d, "/v1/users", "limit=2", "users"), "user_id") ==
              std::vector<std::string>{"user_5", "user_3", "user_2", "user_1"});
    }
    SECTION("another project's key sees none of them")
    {
        std::string other = create_key(d.data_dir(), "other", "secret", options.database);
        header_list as_other{{"Authorization", "Bearer " + other}};
        auto page = fetch_page(d, "/v1/users?limit=1000", "users", as_other);
        CHECK(page.items.empty());
        CHECK(page.next_cursor.empty());
        CHECK(fetch_page(d, "/v1/companies", "companies", as_other).items.empty());
        // A cursor of this project's listing pages nothing of it for the other project.
        auto mine = fetch_page(d, "/v1/users?limit=1", "users");
        REQUIRE_FALSE(mine.next_cursor.empty());
        CHECK(fetch_page(d, "/v1/users?cursor=" + mine.next_cursor, "users", as_other).items.empty());
    }
}

TEST_CASE("GET /v1/companies pages through the project's companies", "[listing][integration]")
{
    std::string engine = GENERATE("sqlite", "postgres");
    CAPTURE(engine);
    test_daemon d({}, on_engine(engine));
    std::vector<std::string> made;
    for (int i = 0; i < 4; ++i) {
        made.push_back("co_" + std::to_string(4 - i));
        REQUIRE(d.call("POST", "/v1/companies/identify",
                       R"({"company_id":")" + made.back() + R"(","metadata":{"size":)" + std::to_string(i) + "}}")
                    .status == 202);
    }
    // Created by a user's identify, too.
    REQUIRE(d.identify(R"({"user_id":"jane","metadata":{},"company":{"id":"co_0"}})").status == 202);
    made.push_back("co_0");
    auto companies = all_pages(d, "/v1/companies", "limit=2", "companies");
    CHECK(ids_of(companies, "company_id") == made);
    for (const auto& c : companies) {
        auto one = d.call("GET", "/v1/companies/" + string_field(c, "company_id"));
        REQUIRE(one.status == 200);
        CHECK(c == one.json().as_object());
    }
    REQUIRE(d.call("DELETE", "/v1/companies/co_3").status == 204);
    CHECK(all_pages(d, "/v1/companies", "", "companies").size() == 4);
}

TEST_CASE("listing refuses bad limits, cursors and times with a 400", "[listing][integration]")
{
    test_daemon d;
    REQUIRE(d.identify(R"({"user_id":"u1","metadata":{}})").status == 202);
    REQUIRE(d.identify(R"({"user_id":"u2","metadata":{}})").status == 202);
    REQUIRE(d.call("POST", "/v1/companies/identify", R"({"company_id":"c1"})").status == 202);
    REQUIRE(d.call("POST", "/v1/companies/identify", R"({"company_id":"c2"})").status == 202);
    std::string users_cursor = fetch_page(d, "/v1/users?limit=1", "users").next_cursor;
    std::string companies_cursor = fetch_page(d, "/v1/companies?limit=1", "companies").next_cursor;
    REQUIRE_FALSE(users_cursor.empty());
    REQUIRE_FALSE(companies_cursor.empty());
    CHECK(fetch_page(d, "/v1/users?limit=1000", "users").items.size() == 2);

    std::string path = GENERATE("/v1/users", "/v1/companies");
    CAPTURE(path);
    for (const char* limit : {"0", "1001", "-1", "abc", "", "1.5", "2%20", "99999999999999999999"}) {
        CAPTURE(limit);
        check_error(d.call("GET", path + "?limit=" + limit), 400, "invalid_field", "limit");
    }
    std::string foreign = path == "/v1/users" ? companies_cursor : users_cursor;
    for (const std::string& cursor :
         {std::string(), std::string("nonsense"), std::string("u0"), std::string("j1"), std::string("%00"), foreign}) {
        CAPTURE(cursor);
        check_error(d.call("GET", path + "?cursor=" + cursor), 400, "invalid_field", "cursor");
    }
    for (const char* since :
         {"", "yesterday", "2025-02-30T00:00:00Z", "2025-02-02", "2025-02-02T12:34:56", "2025-02-02T25:00:00Z",
          "2025-02-02T12:34:56.Z", "2025-02-02T12:34:56Zjunk", "1738499696000"}) {
        CAPTURE(since);
        check_error(d.call("GET", path + "?updated_since=" + since), 400, "invalid_field", "updated_since");
    }
    header_list as_public{{"Authorization", "Token " + d.public_key()}};
    check_error(http_call(d.port(), "GET", path, "", as_public), 403, "forbidden");
    check_error(http_call(d.port(), "GET", path), 401, "unauthorized");
}

TEST_CASE("paging through the users while others are written sees every earlier user exactly once",
          "[listing][concurrency][integration]")
{
    std::string engine = GENERATE("sqlite", "postgres");
    CAPTURE(engine);
    test_daemon d({"--rows-per-minute", "0"}, on_engine(engine));
    constexpr int existing = 600;
    auto up = upload_ndjson(d, "users", user_rows(existing, 0, "before"));
    REQUIRE(up.status == 202);
    REQUIRE(string_field(wait_for_job_end(d, string_field(up.json().as_object(), "job_id")), "status") == "done");

    // A writer keeps identifying new users and updating existing ones (which changes their updated_at) while the
    // reader pages.
    std::atomic<bool> stop{false};
    std::atomic<int> writes{0};
    std::thread writer([&] {
        http_connection c(d.port());
        for (int i = 0; !stop; ++i) {
            std::string id = i % 2 ? "new_" + std::to_string(i) : "u" + std::to_string((i * 37) % existing);
            auto r = c.request("POST", "/v1/identify",
                               R"({"user_id":")" + id + R"(","metadata":{"i":)" + std::to_string(i) + "}}",
                               identify_headers(d.secret_key()));
            if (r.status != 202)
                break;
            ++writes;
        }
    });
    // Each next page is asked for only once the writer has committed something since the last one, so writes
    // land between every two pages however the machine schedules the threads.
    auto wait_for_a_write = [&](int since) {
        auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        while (writes == since && std::chrono::steady_clock::now() < until)
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
    };
    std::map<std::string, int> seen;
    std::string cursor;
    int pages = 0;
    for (;;) {
        int before = writes;
        auto page = fetch_page(d, "/v1/users?limit=7" + (cursor.empty() ? "" : "&cursor=" + cursor), "users");
        for (const auto& u : page.items)
            ++seen[string_field(u, "user_id")];
        ++pages;
        if (page.next_cursor.empty())
            break;
        cursor = page.next_cursor;
        wait_for_a_write(before);
    }
    stop = true;
    writer.join();
    INFO(pages << " pages, " << writes << " writes meanwhile");
    CHECK(writes >= pages - 1);
    for (int i = 0; i < existing; ++i) {
        std::string id = "u" + std::to_string(i);
        CAPTURE(id);
        CHECK(seen[id] == 1);
    }
    for (const auto& [id, times] : seen) {
        CAPTURE(id);
        CHECK(times == 1);
    }
}
