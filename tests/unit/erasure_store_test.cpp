// Erasure of users and companies through the store interface, on both engines.
#include <cstdint>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "common/store/store.hpp"
#include "tests/support/store_batches.hpp"
#include "tests/support/test_stores.hpp"

using namespace profiled;

namespace {

// A user as a client would send it, with one property.
user_upsert user_row(const std::string& user_id)
{
    user_upsert u;
    u.user_id = user_id;
    u.email = user_id + "@example.com";
    u.properties = R"({"plan":"pro"})";
    return u;
}

// A company with one property.
company_upsert company_row(const std::string& company_id)
{
    company_upsert c;
    c.company_id = company_id;
    c.properties = R"({"size":10})";
    return c;
}

// A job of the project that ran one chunk whose rows failed with these ids, one row error each (lines 1, 2, ...).
void job_with_row_errors(store_writer& w, std::int64_t project, const std::string& job_id, job_type type,
                         const std::vector<std::string>& row_ids)
{
    job_record job;
    job.job_id = job_id;
    job.project_id = project;
    job.type = type;
    job.file_size = 100;
    job.total_rows = static_cast<std::int64_t>(row_ids.size());
    job.submitted_at = 1000;
    test::apply_one(w, insert_job{job, "", 0});
    auto claimed = test::apply_one(w, claim_job{"daemon-a", -1, {}, 1000, 60000});
    REQUIRE(claimed.job);
    REQUIRE(claimed.job->job_id == job_id);
    advance_job advance{job_id, "daemon-a", 10, 1, 0, static_cast<std::int64_t>(row_ids.size()), {}, 1000, 60000};
    for (std::size_t i = 0; i < row_ids.size(); ++i)
        advance.errors.push_back({static_cast<std::int64_t>(i + 1), row_ids[i], "email", "email is not an address"});
    test::apply_one(w, advance);
    test::apply_one(w, finish_job{job_id, job_status::done, {}, 2000});
}

// The ids in a job's row errors, by line ("" where there is none).
std::vector<std::string> row_error_ids(store_reader& r, const std::string& job_id)
{
    std::vector<std::string> ids;
    auto page = r.list_job_errors(job_id, std::nullopt, 100);
    REQUIRE(page);
    for (const auto& e : page->errors)
        ids.push_back(e.row_id);
    return ids;
}

} // namespace

TEST_CASE("erasing a user removes the profile, its aliases both ways and its ids in row errors", "[store][erasure]")
{
    auto engine = GENERATE(test::sqlite, test::postgres);
    CAPTURE(test::engine_name(engine));
    test::scratch_store db(engine);
    auto w = db->open_writer();
    auto r = db->open_reader();
    std::int64_t p = w->ensure_project("alpha", 1000);
    std::int64_t other = w->ensure_project("beta", 1000);
    test::apply_one(*w, upsert_users{p, {user_row("jane"), user_row("bob")}, 1000});
    test::apply_one(*w, upsert_users{other, {user_row("jane")}, 1000});
    test::apply_one(*w, alias_user{p, "jane", "anon_1", 1000});
    test::apply_one(*w, alias_user{p, "jane", "anon_2", 1000});
    std::string old_id = r->find_user(p, "jane")->id;
    job_with_row_errors(*w, p, "job-users", job_type::users, {"jane", "anon_1", "bob"});
    job_with_row_errors(*w, p, "job-companies", job_type::companies, {"jane"});
    job_with_row_errors(*w, other, "job-other", job_type::users, {"jane"});

    SECTION("by its own id") { CHECK(test::apply_one(*w, erase_users{p, {"jane"}}).count == 1); }
    SECTION("by one of its aliases") { CHECK(test::apply_one(*w, erase_users{p, {"anon_2"}}).count == 1); }
    CHECK_FALSE(r->find_user(p, "jane"));
    CHECK_FALSE(r->find_user(p, "anon_1"));
    CHECK_FALSE(r->find_user(p, "anon_2"));
    // The row errors stay (the job's counts still add up), without the erased ids; a company "jane" and another
    // project's "jane" are someone else.
    CHECK(row_error_ids(*r, "job-users") == std::vector<std::string>{"", "", "bob"});
    CHECK(row_error_ids(*r, "job-companies") == std::vector<std::string>{"jane"});
    CHECK(row_error_ids(*r, "job-other") == std::vector<std::string>{"jane"});
    CHECK(r->find_user(p, "bob"));
    CHECK(r->find_user(other, "jane"));
    // The aliases are gone: their ids are new users now, and so is the erased id, with a new internal id.
    auto again = test::apply_one(*w, upsert_users{p, {user_row("anon_1")}, 3000, true});
    CHECK(again.upserts.at(0).created);
    CHECK(r->find_user(p, "anon_1")->user_id == "anon_1");
    auto recreated = test::apply_one(*w, upsert_users{p, {user_row("jane")}, 3000, true});
    CHECK(recreated.upserts.at(0).created);
    CHECK(recreated.upserts.at(0).public_id != old_id);
    CHECK(r->find_user(p, "jane")->aliases.empty());
    CHECK(r->find_user(p, "jane")->properties == boost::json::object{{"plan", "pro"}});
}

TEST_CASE("erasing many users counts the profiles removed", "[store][erasure]")
{
    auto engine = GENERATE(test::sqlite, test::postgres);
    CAPTURE(test::engine_name(engine));
    test::scratch_store db(engine);
    auto w = db->open_writer();
    auto r = db->open_reader();
    std::int64_t p = w->ensure_project("alpha", 1000);
    std::int64_t other = w->ensure_project("beta", 1000);
    test::apply_one(*w, upsert_users{p, {user_row("u1"), user_row("u2"), user_row("u3"), user_row("u4")}, 1000});
    test::apply_one(*w, upsert_users{other, {user_row("u5")}, 1000});
    test::apply_one(*w, alias_user{p, "u3", "anon_3", 1000});

    // u1 named twice, u3 by its alias and by its id: each profile counts once; u5 is another project's and
    // "nobody" names no one.
    auto erased = test::apply_one(*w, erase_users{p, {"u1", "u1", "anon_3", "u3", "u5", "nobody"}});
    CHECK(erased.count == 2);
    CHECK_FALSE(r->find_user(p, "u1"));
    CHECK_FALSE(r->find_user(p, "u3"));
    CHECK(r->find_user(p, "u2"));
    CHECK(r->find_user(p, "u4"));
    CHECK(r->find_user(other, "u5"));
    CHECK(test::apply_one(*w, erase_users{p, {"u1", "u3"}}).count == 0);
}

TEST_CASE("erasing companies removes them and their ids in row errors, within their project", "[store][erasure]")
{
    auto engine = GENERATE(test::sqlite, test::postgres);
    CAPTURE(test::engine_name(engine));
    test::scratch_store db(engine);
    auto w = db->open_writer();
    auto r = db->open_reader();
    std::int64_t p = w->ensure_project("alpha", 1000);
    std::int64_t other = w->ensure_project("beta", 1000);
    test::apply_one(*w, upsert_companies{p, {company_row("acme"), company_row("globex")}, 1000});
    test::apply_one(*w, upsert_companies{other, {company_row("acme")}, 1000});
    test::apply_one(*w, upsert_users{p, {user_row("acme")}, 1000});
    job_with_row_errors(*w, p, "job-companies", job_type::companies, {"acme", "globex"});
    job_with_row_errors(*w, p, "job-users", job_type::users, {"acme"});

    CHECK(test::apply_one(*w, erase_companies{p, {"acme", "initech"}}).count == 1);
    CHECK_FALSE(r->find_company(p, "acme"));
    CHECK(r->find_company(p, "globex"));
    CHECK(r->find_company(other, "acme"));
    CHECK(r->find_user(p, "acme")); // a user of the same id is someone else
    CHECK(row_error_ids(*r, "job-companies") == std::vector<std::string>{"", "globex"});
    CHECK(row_error_ids(*r, "job-users") == std::vector<std::string>{"acme"});
    CHECK(test::apply_one(*w, erase_companies{p, {"acme"}}).count == 0);
    CHECK(test::apply_one(*w, erase_companies{p, {"acme", "globex"}}).count == 1);
}
