// The store through its interface, each test on both engines: SQLite in a temporary directory and PostgreSQL on the
// throwaway server (the SQLite-only parts of opening are here, PostgreSQL's in postgres_store_test.cpp).
#include <cstdint>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <boost/json/value.hpp>
#include <catch2/catch.hpp>

#include "common/profiles/people_operations.hpp"
#include "common/store/migrations.hpp"
#include "common/store/sqlite/sqlite.hpp"
#include "common/store/sqlite/sqlite_store.hpp"
#include "common/store/store.hpp"
#include "tests/support/scratch_dir.hpp"
#include "tests/support/test_stores.hpp"
#include "tests/support/store_batches.hpp"

using namespace profiled;

namespace {

// A profiled.db in a fresh temporary directory.
class scratch_db {
public:
    std::string path() const { return dir_.file("profiled.db"); }

private:
    profiled::test::scratch_dir dir_;
};

// A user as a client would first send it.
user_upsert make_user(const std::string& user_id)
{
    user_upsert u;
    u.user_id = user_id;
    u.properties = R"({"plan":"pro","seats":3,"gone":null})";
    u.origin = R"({"channel":"ios-app"})";
    return u;
}

// Upserts one user at time now; says whether it was created, and its internal id.
upsert_outcome upsert_one(store_writer& w, std::int64_t project, user_upsert row, std::int64_t now)
{
    return test::apply_one(w, upsert_users{project, {std::move(row)}, now, true}).upserts.at(0);
}

// Inserts a job; the outcome names the earlier job when another one holds its Idempotency-Key.
operation_outcome insert(store_writer& w, const job_record& job, const std::string& digest,
                         std::int64_t not_before = 0)
{
    return test::apply_one(w, insert_job{job, digest, not_before});
}

// A queued job of the project, submitted at the given time.
job_record make_job(std::int64_t project, const std::string& job_id, std::int64_t submitted_at)
{
    job_record j;
    j.job_id = job_id;
    j.project_id = project;
    j.type = job_type::users;
    j.status = job_status::queued;
    j.filename = "users.ndjson";
    j.file_size = 1234;
    j.total_rows = 10;
    j.submitted_at = submitted_at;
    return j;
}

// Applies ops as one batch.
std::vector<operation_outcome> apply(store_writer& w, std::vector<store_operation> ops) { return w.apply(ops); }

} // namespace

TEST_CASE("opening a store applies every embedded migration once", "[store]")
{
    scratch_db dir;
    const auto& migrations = embedded_migrations();
    REQUIRE_FALSE(migrations.empty());

    // Twice: the second open must find nothing left to apply and must not fail.
    open_sqlite_store(dir.path());
    open_sqlite_store(dir.path());

    sqlite_connection db(dir.path(), true);
    auto q = db.query("SELECT version, name FROM schema_migrations ORDER BY version");
    std::vector<int> versions;
    while (q.step()) {
        versions.push_back(static_cast<int>(q.int64(0)));
        CHECK_FALSE(q.text(1).empty());
    }
    std::vector<int> expected;
    for (const auto& m : migrations)
        expected.push_back(m.version);
    CHECK(versions == expected);

    SECTION("the tables of the schema exist")
    {
        for (const char* table : {"projects", "api_keys", "users", "companies", "aliases", "jobs", "job_errors"}) {
            CAPTURE(table);
            auto t = db.query("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?", table);
            REQUIRE(t.step());
            CHECK(t.int64(0) == 1);
        }
    }
    SECTION("the database is in WAL mode")
    {
        auto mode = db.query("PRAGMA journal_mode");
        REQUIRE(mode.step());
        CHECK(mode.text(0) == "wal");
    }
}

TEST_CASE("a database with a newer schema than the binary is refused with a clear message", "[store]")
{
    scratch_db dir;
    open_sqlite_store(dir.path());
    int newest = embedded_migrations().back().version;
    {
        sqlite_connection db(dir.path(), false);
        db.query("INSERT INTO schema_migrations(version, name, applied_at) VALUES (?, 'from_the_future', 0)",
                 newest + 7)
            .run();
    }
    try {
        open_sqlite_store(dir.path());
        FAIL("a newer database was opened");
    } catch (const std::runtime_error& e) {
        std::string message = e.what();
        CAPTURE(message);
        CHECK(message.find(dir.path()) != std::string::npos);
        CHECK(message.find("schema version " + std::to_string(newest + 7)) != std::string::npos);
        CHECK(message.find("upgrade profiled") != std::string::npos);
    }
}

TEST_CASE("users save, load and stay within their project", "[store]")
{
    auto engine = GENERATE(test::sqlite, test::postgres);
    CAPTURE(test::engine_name(engine));
    test::scratch_store db(engine);
    auto w = db->open_writer();
    auto r = db->open_reader();
    std::int64_t a = w->ensure_project("alpha", 1000);
    std::int64_t b = w->ensure_project("beta", 1000);
    upsert_outcome first = upsert_one(*w, a, make_user("user_001"), 1000);
    REQUIRE(a != b);
    CHECK(first.created);
    CHECK(first.public_id.rfind("usr_", 0) == 0);
    CHECK(first.public_id.size() == 20);

    SECTION("ensure_project gives the same id for the same name")
    {
        CHECK(w->ensure_project("alpha", 2000) == a);
    }
    SECTION("a saved user reads back field for field, null properties included")
    {
        auto u = r->find_user(a, "user_001");
        REQUIRE(u);
        CHECK(u->user_id == "user_001");
        CHECK(u->id == first.public_id);
        CHECK_FALSE(u->email);
        CHECK_FALSE(u->phone);
        CHECK_FALSE(u->company_id);
        CHECK(u->properties.at("plan") == "pro");
        CHECK(u->properties.at("seats") == 3);
        REQUIRE(u->properties.contains("gone"));
        CHECK(u->properties.at("gone").is_null());
        CHECK(u->origin.at("channel") == "ios-app");
        CHECK(u->aliases.empty());
        CHECK(u->created_at == 1000);
        CHECK(u->updated_at == 1000);
    }
    SECTION("an update overwrites the given fields but not created_at or the internal id")
    {
        user_upsert change;
        change.user_id = "user_001";
        change.email = "jane@example.com";
        change.phone = "+1234567890";
        change.company_id = "company_001";
        change.properties = R"({"plan":"free"})";
        upsert_outcome again = upsert_one(*w, a, change, 5000);
        CHECK_FALSE(again.created);
        CHECK(again.public_id == first.public_id);
        auto u = r->find_user(a, "user_001");
        REQUIRE(u);
        CHECK(u->email == "jane@example.com");
        CHECK(u->phone == "+1234567890");
        CHECK(u->company_id == "company_001");
        CHECK(u->properties == boost::json::object{{"plan", "free"}, {"seats", 3}, {"gone", nullptr}});
        CHECK(u->id == first.public_id);
        CHECK(u->created_at == 1000);
        CHECK(u->updated_at == 5000);
    }
    SECTION("another project does not see the user, and may hold its own with the same user_id")
    {
        CHECK_FALSE(r->find_user(b, "user_001"));
        upsert_outcome other = upsert_one(*w, b, make_user("user_001"), 2000);
        CHECK(other.created);
        CHECK(other.public_id != first.public_id);
        CHECK(r->find_user(a, "user_001")->id == first.public_id);
        CHECK(r->find_user(b, "user_001")->id == other.public_id);
    }
    SECTION("a batch that fails as a whole leaves nothing behind")
    {
        REQUIRE_FALSE(insert(*w, make_job(a, "job-taken", 1000), "").earlier_job);
        // The second job's id is taken: a broken write, not a refusal, so the batch fails and nothing of it stays.
        CHECK_THROWS_AS(apply(*w, {upsert_users{a, {make_user("user_002")}, 3000},
                                   insert_job{make_job(a, "job-taken", 3000), "", 0}}),
                        store_error);
        CHECK_FALSE(r->find_user(a, "user_002"));
        CHECK(r->list_all_jobs(10).size() == 1);
    }
    SECTION("a deleted user is gone")
    {
        CHECK(test::apply_one(*w, delete_user{a, "user_001"}).count == 1);
        CHECK_FALSE(r->find_user(a, "user_001"));
        CHECK(test::apply_one(*w, delete_user{a, "user_001"}).count == 0);
    }
    SECTION("user ids are exact: case, slashes and unicode are distinct ids")
    {
        auto outcomes = apply(*w, {upsert_users{a,
                                                {make_user("User_001"), make_user("a/b"),
                                                 make_user("j\xc3\xb6rg@x.com")},
                                                3000, true}});
        REQUIRE(outcomes.size() == 1);
        const auto& made = outcomes[0].upserts;
        REQUIRE(made.size() == 3);
        for (const auto& m : made)
            CHECK(m.created);
        CHECK(r->find_user(a, "User_001")->id == made[0].public_id);
        CHECK(r->find_user(a, "user_001")->id == first.public_id);
        CHECK(r->find_user(a, "a/b")->id == made[1].public_id);
        CHECK(r->find_user(a, "j\xc3\xb6rg@x.com")->id == made[2].public_id);
        CHECK_FALSE(r->find_user(a, "a"));
    }
}

TEST_CASE("a refused operation in a batch does not undo the others", "[store][batch]")
{
    auto engine = GENERATE(test::sqlite, test::postgres);
    CAPTURE(test::engine_name(engine));
    test::scratch_store db(engine);
    auto w = db->open_writer();
    auto r = db->open_reader();
    std::int64_t p = w->ensure_project("alpha", 1000);
    upsert_one(*w, p, make_user("user_001"), 1000);

    people_operations bad; // $add on a string: refused
    bad.set["touched"] = true;
    bad.add["plan"] = 1;
    people_operations good;
    good.set["visits"] = 3;
    auto outcomes = apply(*w, {upsert_users{p, {make_user("kept_before")}, 2000},
                               update_people{p, "user_001", bad, 2000},
                               alias_user{p, "user_001", "user_001", 2000},
                               update_people{p, "user_001", good, 2000},
                               insert_job{make_job(p, "job-1", 2000), "", 0},
                               upsert_users{p, {make_user("kept_after")}, 2000}});
    REQUIRE(outcomes.size() == 6);
    CHECK_FALSE(outcomes[0].refused);
    REQUIRE(outcomes[1].refused);
    CHECK(outcomes[1].refused->kind == errc::bad_request);
    REQUIRE(outcomes[2].refused);
    CHECK(outcomes[2].refused->code == "same_ids");
    CHECK_FALSE(outcomes[3].refused);
    CHECK_FALSE(outcomes[4].refused);
    CHECK_FALSE(outcomes[5].refused);

    CHECK(r->find_user(p, "kept_before"));
    CHECK(r->find_user(p, "kept_after"));
    CHECK(r->find_job(p, "job-1"));
    auto u = r->find_user(p, "user_001");
    REQUIRE(u);
    // The refused update left nothing of itself (not even its $set); the later one applied.
    CHECK_FALSE(u->properties.contains("touched"));
    CHECK(u->properties.at("plan") == "pro");
    CHECK(u->properties.at("visits") == 3);
    CHECK(u->aliases.empty());
}

TEST_CASE("companies save and load within their project", "[store]")
{
    auto engine = GENERATE(test::sqlite, test::postgres);
    CAPTURE(test::engine_name(engine));
    test::scratch_store db(engine);
    auto w = db->open_writer();
    auto r = db->open_reader();
    std::int64_t a = w->ensure_project("alpha", 1000);
    std::int64_t b = w->ensure_project("beta", 1000);
    test::apply_one(*w, upsert_companies{a, {{"company_001", R"({"name":"Acme","size":null})"}}, 1000});

    auto c = r->find_company(a, "company_001");
    REQUIRE(c);
    CHECK(c->company_id == "company_001");
    CHECK(c->properties.at("name") == "Acme");
    CHECK(c->properties.at("size").is_null());
    CHECK(c->created_at == 1000);
    CHECK_FALSE(r->find_company(b, "company_001"));
    CHECK_FALSE(r->find_company(a, "company_002"));

    test::apply_one(*w, upsert_companies{a, {{"company_001", R"({"plan":"enterprise"})"}}, 4000});
    c = r->find_company(a, "company_001");
    REQUIRE(c);
    CHECK(c->properties.at("plan") == "enterprise");
    CHECK(c->properties.at("name") == "Acme");
    CHECK(c->created_at == 1000);
    CHECK(c->updated_at == 4000);
}

TEST_CASE("keys are found by hash and revoked by prefix", "[store][keys]")
{
    auto engine = GENERATE(test::sqlite, test::postgres);
    CAPTURE(test::engine_name(engine));
    test::scratch_store db(engine);
    auto w = db->open_writer();
    auto r = db->open_reader();
    std::int64_t alpha = w->ensure_project("alpha", 1000);
    std::int64_t beta = w->ensure_project("beta", 1000);
    w->insert_key({0, alpha, "", key_kind::secret, "sk_AAAA1111", "hash-secret-1", 1000, std::nullopt});
    w->insert_key({0, alpha, "", key_kind::public_key, "pk_AAAA1111", "hash-public-1", 1001, std::nullopt});
    w->insert_key({0, beta, "", key_kind::secret, "sk_AAAA2222", "hash-secret-2", 1002, std::nullopt});

    SECTION("find_key returns the key's project and kind, and nothing for an unknown hash")
    {
        auto k = r->find_key("hash-public-1");
        REQUIRE(k);
        CHECK(k->project == "alpha");
        CHECK(k->kind == key_kind::public_key);
        CHECK(k->prefix == "pk_AAAA1111");
        CHECK_FALSE(k->revoked_at);
        CHECK(r->find_key("hash-secret-2")->project == "beta");
        CHECK_FALSE(r->find_key("hash-unknown"));
    }
    SECTION("list_keys shows every key with its project")
    {
        auto keys = r->list_keys();
        REQUIRE(keys.size() == 3);
        CHECK(keys[0].project == "alpha");
        CHECK(keys[2].project == "beta");
    }
    SECTION("revoking by a full prefix revokes only that key, once")
    {
        CHECK(w->revoke_keys("sk_AAAA1111", 9000) == 1);
        CHECK(r->find_key("hash-secret-1")->revoked_at == 9000);
        CHECK_FALSE(r->find_key("hash-secret-2")->revoked_at);
        CHECK_FALSE(r->find_key("hash-public-1")->revoked_at);
        CHECK(w->revoke_keys("sk_AAAA1111", 9500) == 0);
        CHECK(r->find_key("hash-secret-1")->revoked_at == 9000);
    }
    SECTION("a shorter prefix revokes every live key it starts")
    {
        CHECK(w->revoke_keys("sk_AAAA", 9000) == 2);
        CHECK(r->find_key("hash-secret-2")->revoked_at);
        CHECK_FALSE(r->find_key("hash-public-1")->revoked_at);
    }
    SECTION("a prefix that matches nothing revokes nothing")
    {
        CHECK(w->revoke_keys("sk_ZZZZ", 9000) == 0);
        for (const auto& k : r->list_keys())
            CHECK_FALSE(k.revoked_at);
    }
}

TEST_CASE("an alias resolves to its user", "[store]")
{
    auto engine = GENERATE(test::sqlite, test::postgres);
    CAPTURE(test::engine_name(engine));
    test::scratch_store db(engine);
    auto w = db->open_writer();
    auto r = db->open_reader();
    std::int64_t p = w->ensure_project("alpha", 1000);
    std::int64_t other = w->ensure_project("beta", 1000);
    upsert_outcome user = upsert_one(*w, p, make_user("user_123"), 1000);
    apply(*w, {alias_user{p, "user_123", "anon_456", 1000}, alias_user{p, "user_123", "anon_111", 1000}});

    SECTION("reads through an alias return the real user with its aliases")
    {
        auto u = r->find_user(p, "anon_456");
        REQUIRE(u);
        CHECK(u->user_id == "user_123");
        CHECK(u->aliases == std::vector<std::string>{"anon_111", "anon_456"});
        CHECK(r->find_user(p, "user_123")->aliases.size() == 2);
    }
    SECTION("writes resolve an alias and leave other ids as they are")
    {
        upsert_outcome through_alias = upsert_one(*w, p, make_user("anon_456"), 2000);
        CHECK_FALSE(through_alias.created);
        CHECK(through_alias.public_id == user.public_id);
        CHECK_FALSE(upsert_one(*w, p, make_user("user_123"), 2000).created);
        CHECK(upsert_one(*w, p, make_user("stranger"), 2000).created);
        CHECK(r->find_user(p, "stranger")->user_id == "stranger");
    }
    SECTION("aliases are scoped to their project")
    {
        CHECK_FALSE(r->find_user(other, "anon_456"));
        CHECK(upsert_one(*w, other, make_user("anon_456"), 2000).created);
        CHECK(r->find_user(other, "anon_456")->user_id == "anon_456");
    }
    SECTION("aliases follow their user when it becomes an alias itself")
    {
        test::apply_one(*w, alias_user{p, "user_999", "user_123", 2000});
        CHECK(r->find_user(p, "anon_456")->user_id == "user_999");
        auto moved = r->find_user(p, "user_123");
        REQUIRE(moved);
        CHECK(moved->user_id == "user_999");
        CHECK(moved->id == user.public_id);
        CHECK(moved->aliases == std::vector<std::string>{"anon_111", "anon_456", "user_123"});
    }
}

namespace {
// Claims every unfinished job for owner, for good, so that the test may advance any of them as that owner.
void claim_every_job(store_writer& w, const std::string& owner)
{
    while (apply(w, {claim_job{owner, -1, {}, 0, std::numeric_limits<std::int64_t>::max()}}).front().job) {
    }
}
} // namespace

TEST_CASE("jobs list newest first in pages that a cursor continues", "[store]")
{
    auto engine = GENERATE(test::sqlite, test::postgres);
    CAPTURE(test::engine_name(engine));
    test::scratch_store db(engine);
    auto w = db->open_writer();
    auto r = db->open_reader();
    std::int64_t p = w->ensure_project("alpha", 1000);
    std::int64_t other = w->ensure_project("beta", 1000);
    for (int i = 0; i < 5; ++i)
        REQUIRE_FALSE(insert(*w, make_job(p, "job-" + std::to_string(i), 1000 + i), "").earlier_job);
    REQUIRE_FALSE(insert(*w, make_job(other, "job-other", 2000), "").earlier_job);
    claim_every_job(*w, "daemon-a");

    SECTION("a new job reads back as queued with its figures")
    {
        auto j = r->find_job(p, "job-0");
        REQUIRE(j);
        CHECK(j->status == job_status::queued);
        CHECK(j->type == job_type::users);
        CHECK(j->filename == "users.ndjson");
        CHECK(j->file_size == 1234);
        CHECK(j->total_rows == 10);
        CHECK(j->processed_rows == 0);
        CHECK(j->submitted_at == 1000);
        CHECK_FALSE(j->started_at);
        CHECK_FALSE(j->finished_at);
        CHECK_FALSE(r->find_job(other, "job-0"));
    }
    SECTION("pages of two walk all five jobs exactly once, newest first")
    {
        std::vector<std::string> seen;
        std::optional<std::string> cursor;
        int pages = 0;
        do {
            auto page = r->list_jobs(p, std::nullopt, cursor, 2);
            REQUIRE(page);
            for (const auto& j : page->jobs)
                seen.push_back(j.job_id);
            cursor = page->next_cursor;
            REQUIRE(++pages <= 3);
        } while (cursor);
        CHECK(pages == 3);
        CHECK(seen == std::vector<std::string>{"job-4", "job-3", "job-2", "job-1", "job-0"});
    }
    SECTION("a page that holds the rest has no cursor")
    {
        auto page = r->list_jobs(p, std::nullopt, std::nullopt, 5);
        REQUIRE(page);
        CHECK(page->jobs.size() == 5);
        CHECK_FALSE(page->next_cursor);
    }
    SECTION("a cursor the store did not hand out is refused, not read as a position")
    {
        auto first = r->list_jobs(p, std::nullopt, std::nullopt, 2);
        REQUIRE(first);
        REQUIRE(first->next_cursor);
        for (const std::string& bad : std::vector<std::string>{"", "x", "3", "j", "j-1", "j+3", "j0", "j3x", " j3",
                                                               "j99999999999999999999", "l3", std::string("j3\0", 3)}) {
            CAPTURE(bad);
            CHECK_FALSE(r->list_jobs(p, std::nullopt, bad, 2));
        }
        for (const std::string& bad :
             std::vector<std::string>{"", "x", "3", "l", "l-1", "l3x", "j3", *first->next_cursor})
            CHECK_FALSE(r->list_job_errors("job-0", bad, 2));
    }
    SECTION("the status filter, progress and the end of a job")
    {
        apply(*w, {advance_job{"job-1", "daemon-a", 512, 7, 6, 1, {}, 3000, 4000},
                   advance_job{"job-2", "daemon-a", 0, 0, 0, 0, {}, 3100, 4000},
                   finish_job{"job-2", job_status::failed, std::string("spool file lost"), 3200}});
        auto loaded = r->find_job(p, "job-1");
        REQUIRE(loaded);
        CHECK(loaded->status == job_status::running);
        CHECK(loaded->processed_rows == 6);
        CHECK_FALSE(r->find_job(p, "job-none"));
        CHECK(r->unfinished_jobs().size() == 4 + 1); // four of alpha's, one of beta's
        auto running = r->list_jobs(p, job_status::running, std::nullopt, 10);
        REQUIRE(running);
        REQUIRE(running->jobs.size() == 1);
        const auto& j = running->jobs[0];
        CHECK(j.job_id == "job-1");
        CHECK(j.started_at == 3000);
        CHECK(j.checkpoint_offset == 512);
        CHECK(j.checkpoint_line == 7);
        CHECK(j.processed_rows == 6);
        CHECK(j.failed_rows == 1);
        auto failed = r->find_job(p, "job-2");
        REQUIRE(failed);
        CHECK(failed->status == job_status::failed);
        CHECK(failed->error == "spool file lost");
        CHECK(failed->finished_at == 3200);
        CHECK(r->count_jobs(job_status::queued) == 4);
        CHECK(r->count_jobs(job_status::running) == 1);
        CHECK(r->count_jobs(job_status::failed) == 1);
        auto done = r->list_jobs(p, job_status::done, std::nullopt, 10);
        REQUIRE(done);
        CHECK(done->jobs.empty());
    }
    SECTION("a later chunk keeps the job running and its first start time")
    {
        apply(*w, {advance_job{"job-1", "daemon-a", 100, 2, 2, 0, {}, 3000, 4000}});
        apply(*w, {advance_job{"job-1", "daemon-a", 200, 4, 4, 0, {}, std::nullopt, 5000}});
        auto j = r->find_job(p, "job-1");
        REQUIRE(j);
        CHECK(j->status == job_status::running);
        CHECK(j->started_at == 3000);
        CHECK(j->checkpoint_offset == 200);
        CHECK(j->processed_rows == 4);
    }
    SECTION("list_all_jobs spans projects")
    {
        CHECK(r->list_all_jobs(100).size() == 6);
        CHECK(r->list_all_jobs(2).size() == 2);
    }
}

TEST_CASE("job row errors list by line in pages", "[store]")
{
    auto engine = GENERATE(test::sqlite, test::postgres);
    CAPTURE(test::engine_name(engine));
    test::scratch_store db(engine);
    auto w = db->open_writer();
    auto r = db->open_reader();
    const std::string job = "job-errors";
    std::int64_t p = w->ensure_project("alpha", 1000);
    REQUIRE_FALSE(insert(*w, make_job(p, job, 1000), "").earlier_job);
    REQUIRE_FALSE(insert(*w, make_job(p, "job-quiet", 1001), "").earlier_job);
    claim_every_job(*w, "daemon-a");
    advance_job chunk{job, "daemon-a", 100, 12, 12, 5, {}, 1100, 5000};
    for (int line : {9, 3, 5, 12, 7})
        chunk.errors.push_back({line, "user_" + std::to_string(line), "user_id", "user_id is required"});
    apply(*w, {chunk});

    std::vector<std::int64_t> lines;
    std::optional<std::string> after;
    int pages = 0;
    for (;;) {
        auto page = r->list_job_errors(job, after, 2);
        REQUIRE(page);
        for (const auto& e : page->errors) {
            lines.push_back(e.line);
            CHECK(e.row_id == "user_" + std::to_string(e.line));
            CHECK(e.field == "user_id");
            CHECK(e.message == "user_id is required");
        }
        REQUIRE(++pages <= 3);
        if (!page->next_cursor)
            break;
        after = page->next_cursor;
    }
    CHECK(lines == std::vector<std::int64_t>{3, 5, 7, 9, 12});
    auto quiet = r->list_job_errors("job-quiet", std::nullopt, 10);
    REQUIRE(quiet);
    CHECK(quiet->errors.empty());
    auto unknown = r->list_job_errors("job-none", std::nullopt, 10);
    REQUIRE(unknown);
    CHECK(unknown->errors.empty());
}

TEST_CASE("an idempotency key holds one job per project, bound to its upload's digest", "[store][idempotency]")
{
    auto engine = GENERATE(test::sqlite, test::postgres);
    CAPTURE(test::engine_name(engine));
    test::scratch_store db(engine);
    auto w = db->open_writer();
    auto r = db->open_reader();
    const std::string digest(64, 'a');
    auto keyed = [](std::int64_t project, const std::string& job_id, std::int64_t submitted_at) {
        job_record j = make_job(project, job_id, submitted_at);
        j.idempotency_key = "nightly";
        return j;
    };
    std::int64_t p = w->ensure_project("alpha", 1000);
    std::int64_t other = w->ensure_project("beta", 1000);
    REQUIRE_FALSE(insert(*w, keyed(p, "job-first", 1000), digest).earlier_job);

    SECTION("the key is found with its digest, by the writer and the reader")
    {
        auto held = insert(*w, keyed(p, "job-twin", 1001), digest, 0).earlier_job;
        REQUIRE(held);
        CHECK(held->job.job_id == "job-first");
        CHECK(held->upload_sha256 == digest);
        auto seen = r->find_job_by_idempotency_key(p, "nightly", 0);
        REQUIRE(seen);
        CHECK(seen->job_id == "job-first");
        CHECK(seen->idempotency_key == "nightly");
        CHECK_FALSE(r->find_job_by_idempotency_key(p, "nightly", 1001));
        CHECK_FALSE(r->find_job_by_idempotency_key(other, "nightly", 0));
    }
    SECTION("a second job with the key is not inserted, whatever its digest; another project's is")
    {
        CHECK(insert(*w, keyed(p, "job-twin", 1001), digest).earlier_job);
        CHECK(insert(*w, keyed(p, "job-other-body", 1002), std::string(64, 'b')).earlier_job);
        CHECK_FALSE(insert(*w, keyed(other, "job-beta", 1003), digest).earlier_job);
        CHECK_FALSE(r->find_job(p, "job-twin"));
        CHECK_FALSE(r->find_job(p, "job-other-body"));
        CHECK(r->find_job(other, "job-beta"));
        CHECK(r->list_all_jobs(10).size() == 2);
    }
    SECTION("jobs without a key never clash")
    {
        CHECK_FALSE(insert(*w, make_job(p, "job-a", 1001), "").earlier_job);
        CHECK_FALSE(insert(*w, make_job(p, "job-b", 1002), "").earlier_job);
        CHECK(r->list_all_jobs(10).size() == 3);
    }
    SECTION("the key is forgotten only on jobs submitted before the window")
    {
        auto too_soon = insert(*w, keyed(p, "job-too-soon", 2000), digest, 1000).earlier_job;
        REQUIRE(too_soon);
        CHECK(too_soon->job.job_id == "job-first");
        REQUIRE_FALSE(insert(*w, keyed(p, "job-next-day", 90'000'000), std::string(64, 'c'), 1001).earlier_job);
        auto held = insert(*w, keyed(p, "job-later", 90'000'001), digest, 0).earlier_job;
        REQUIRE(held);
        CHECK(held->job.job_id == "job-next-day");
        CHECK(held->upload_sha256 == std::string(64, 'c'));
        // The old job stays, without its key.
        auto old = r->find_job(p, "job-first");
        REQUIRE(old);
        CHECK_FALSE(old->idempotency_key);
        CHECK_FALSE(r->find_job(p, "job-too-soon"));
    }
}
