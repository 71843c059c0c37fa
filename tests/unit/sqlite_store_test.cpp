// The SQLite store through the store interface, on a real database in a temporary directory.
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <boost/json/value.hpp>
#include <catch2/catch.hpp>

#include "common/store/migrations.hpp"
#include "common/store/sqlite/sqlite.hpp"
#include "common/store/sqlite/sqlite_store.hpp"
#include "common/store/store.hpp"
#include "tests/support/scratch_dir.hpp"

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
user_profile make_user(const std::string& user_id, const std::string& public_id, std::int64_t now)
{
    user_profile u;
    u.user_id = user_id;
    u.id = public_id;
    u.properties = {{"plan", "pro"}, {"seats", 3}, {"gone", nullptr}};
    u.origin = {{"channel", "ios-app"}};
    u.created_at = now;
    u.updated_at = now;
    return u;
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

// Runs fn inside one committed write transaction.
template <typename Fn>
void in_transaction(store_writer& w, Fn&& fn)
{
    w.begin();
    fn(w);
    w.commit();
}

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
    scratch_db dir;
    auto db = open_sqlite_store(dir.path());
    auto w = db->open_writer();
    auto r = db->open_reader();
    std::int64_t a = 0, b = 0;
    in_transaction(*w, [&](store_writer& tx) {
        a = tx.ensure_project("alpha", 1000);
        b = tx.ensure_project("beta", 1000);
        tx.save_user(a, make_user("user_001", "usr_AAAAAAAAAAAAAAAA", 1000), true);
    });
    REQUIRE(a != b);

    SECTION("ensure_project gives the same id for the same name")
    {
        in_transaction(*w, [&](store_writer& tx) { CHECK(tx.ensure_project("alpha", 2000) == a); });
    }
    SECTION("a saved user reads back field for field, null properties included")
    {
        auto u = r->find_user(a, "user_001");
        REQUIRE(u);
        CHECK(u->user_id == "user_001");
        CHECK(u->id == "usr_AAAAAAAAAAAAAAAA");
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
    SECTION("an update replaces the stored fields but not created_at or the internal id")
    {
        in_transaction(*w, [&](store_writer& tx) {
            auto u = tx.load_user(a, "user_001");
            REQUIRE(u);
            u->email = "jane@example.com";
            u->phone = "+1234567890";
            u->company_id = "company_001";
            u->properties = {{"plan", "free"}};
            u->updated_at = 5000;
            tx.save_user(a, *u, false);
        });
        auto u = r->find_user(a, "user_001");
        REQUIRE(u);
        CHECK(u->email == "jane@example.com");
        CHECK(u->phone == "+1234567890");
        CHECK(u->company_id == "company_001");
        CHECK(u->properties == boost::json::object{{"plan", "free"}});
        CHECK(u->id == "usr_AAAAAAAAAAAAAAAA");
        CHECK(u->created_at == 1000);
        CHECK(u->updated_at == 5000);
    }
    SECTION("another project does not see the user, and may hold its own with the same user_id")
    {
        CHECK_FALSE(r->find_user(b, "user_001"));
        in_transaction(*w, [&](store_writer& tx) {
            CHECK_FALSE(tx.load_user(b, "user_001"));
            tx.save_user(b, make_user("user_001", "usr_BBBBBBBBBBBBBBBB", 2000), true);
        });
        CHECK(r->find_user(a, "user_001")->id == "usr_AAAAAAAAAAAAAAAA");
        CHECK(r->find_user(b, "user_001")->id == "usr_BBBBBBBBBBBBBBBB");
    }
    SECTION("a rolled back transaction leaves nothing behind")
    {
        w->begin();
        w->save_user(a, make_user("user_002", "usr_CCCCCCCCCCCCCCCC", 3000), true);
        w->rollback();
        CHECK_FALSE(r->find_user(a, "user_002"));
    }
    SECTION("a rolled back savepoint undoes only its own step")
    {
        in_transaction(*w, [&](store_writer& tx) {
            tx.savepoint();
            tx.save_user(a, make_user("kept", "usr_DDDDDDDDDDDDDDDD", 3000), true);
            tx.release_savepoint();
            tx.savepoint();
            tx.save_user(a, make_user("undone", "usr_EEEEEEEEEEEEEEEE", 3000), true);
            tx.rollback_savepoint();
        });
        CHECK(r->find_user(a, "kept"));
        CHECK_FALSE(r->find_user(a, "undone"));
    }
    SECTION("a deleted user is gone")
    {
        in_transaction(*w, [&](store_writer& tx) { tx.delete_user(a, "user_001"); });
        CHECK_FALSE(r->find_user(a, "user_001"));
    }
    SECTION("user ids are exact: case, slashes and unicode are distinct ids")
    {
        in_transaction(*w, [&](store_writer& tx) {
            tx.save_user(a, make_user("User_001", "usr_FFFFFFFFFFFFFFFF", 3000), true);
            tx.save_user(a, make_user("a/b", "usr_GGGGGGGGGGGGGGGG", 3000), true);
            tx.save_user(a, make_user("j\xc3\xb6rg@x.com", "usr_HHHHHHHHHHHHHHHH", 3000), true);
        });
        CHECK(r->find_user(a, "User_001")->id == "usr_FFFFFFFFFFFFFFFF");
        CHECK(r->find_user(a, "user_001")->id == "usr_AAAAAAAAAAAAAAAA");
        CHECK(r->find_user(a, "a/b")->id == "usr_GGGGGGGGGGGGGGGG");
        CHECK(r->find_user(a, "j\xc3\xb6rg@x.com")->id == "usr_HHHHHHHHHHHHHHHH");
        CHECK_FALSE(r->find_user(a, "a"));
    }
}

TEST_CASE("companies save and load within their project", "[store]")
{
    scratch_db dir;
    auto db = open_sqlite_store(dir.path());
    auto w = db->open_writer();
    auto r = db->open_reader();
    std::int64_t a = 0, b = 0;
    in_transaction(*w, [&](store_writer& tx) {
        a = tx.ensure_project("alpha", 1000);
        b = tx.ensure_project("beta", 1000);
        tx.save_company(a, {"company_001", {{"name", "Acme"}, {"size", nullptr}}, 1000, 1000}, true);
    });

    auto c = r->find_company(a, "company_001");
    REQUIRE(c);
    CHECK(c->company_id == "company_001");
    CHECK(c->properties.at("name") == "Acme");
    CHECK(c->properties.at("size").is_null());
    CHECK(c->created_at == 1000);
    CHECK_FALSE(r->find_company(b, "company_001"));
    CHECK_FALSE(r->find_company(a, "company_002"));

    in_transaction(*w, [&](store_writer& tx) {
        auto loaded = tx.load_company(a, "company_001");
        REQUIRE(loaded);
        loaded->properties["plan"] = "enterprise";
        loaded->updated_at = 4000;
        tx.save_company(a, *loaded, false);
    });
    c = r->find_company(a, "company_001");
    REQUIRE(c);
    CHECK(c->properties.at("plan") == "enterprise");
    CHECK(c->properties.at("name") == "Acme");
    CHECK(c->created_at == 1000);
    CHECK(c->updated_at == 4000);
}

TEST_CASE("keys are found by hash and revoked by prefix", "[store][keys]")
{
    scratch_db dir;
    auto db = open_sqlite_store(dir.path());
    auto w = db->open_writer();
    auto r = db->open_reader();
    in_transaction(*w, [&](store_writer& tx) {
        std::int64_t alpha = tx.ensure_project("alpha", 1000);
        std::int64_t beta = tx.ensure_project("beta", 1000);
        tx.insert_key({0, alpha, "", key_kind::secret, "sk_AAAA1111", "hash-secret-1", 1000, std::nullopt});
        tx.insert_key({0, alpha, "", key_kind::public_key, "pk_AAAA1111", "hash-public-1", 1001, std::nullopt});
        tx.insert_key({0, beta, "", key_kind::secret, "sk_AAAA2222", "hash-secret-2", 1002, std::nullopt});
    });

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
        int n = 0;
        in_transaction(*w, [&](store_writer& tx) { n = tx.revoke_keys("sk_AAAA1111", 9000); });
        CHECK(n == 1);
        CHECK(r->find_key("hash-secret-1")->revoked_at == 9000);
        CHECK_FALSE(r->find_key("hash-secret-2")->revoked_at);
        CHECK_FALSE(r->find_key("hash-public-1")->revoked_at);
        in_transaction(*w, [&](store_writer& tx) { n = tx.revoke_keys("sk_AAAA1111", 9500); });
        CHECK(n == 0);
        CHECK(r->find_key("hash-secret-1")->revoked_at == 9000);
    }
    SECTION("a shorter prefix revokes every live key it starts")
    {
        int n = 0;
        in_transaction(*w, [&](store_writer& tx) { n = tx.revoke_keys("sk_AAAA", 9000); });
        CHECK(n == 2);
        CHECK(r->find_key("hash-secret-2")->revoked_at);
        CHECK_FALSE(r->find_key("hash-public-1")->revoked_at);
    }
    SECTION("a prefix that matches nothing revokes nothing")
    {
        int n = -1;
        in_transaction(*w, [&](store_writer& tx) { n = tx.revoke_keys("sk_ZZZZ", 9000); });
        CHECK(n == 0);
        for (const auto& k : r->list_keys())
            CHECK_FALSE(k.revoked_at);
    }
}

TEST_CASE("an alias resolves to its user", "[store]")
{
    scratch_db dir;
    auto db = open_sqlite_store(dir.path());
    auto w = db->open_writer();
    auto r = db->open_reader();
    std::int64_t p = 0, other = 0;
    in_transaction(*w, [&](store_writer& tx) {
        p = tx.ensure_project("alpha", 1000);
        other = tx.ensure_project("beta", 1000);
        tx.save_user(p, make_user("user_123", "usr_AAAAAAAAAAAAAAAA", 1000), true);
        tx.insert_alias(p, "anon_456", "user_123", 1000);
        tx.insert_alias(p, "anon_111", "user_123", 1000);
    });

    SECTION("reads through an alias return the real user with its aliases")
    {
        auto u = r->find_user(p, "anon_456");
        REQUIRE(u);
        CHECK(u->user_id == "user_123");
        CHECK(u->aliases == std::vector<std::string>{"anon_111", "anon_456"});
        CHECK(r->find_user(p, "user_123")->aliases.size() == 2);
    }
    SECTION("the writer resolves an alias and leaves other ids as they are")
    {
        in_transaction(*w, [&](store_writer& tx) {
            CHECK(tx.resolve_user_id(p, "anon_456") == "user_123");
            CHECK(tx.resolve_user_id(p, "user_123") == "user_123");
            CHECK(tx.resolve_user_id(p, "stranger") == "stranger");
        });
    }
    SECTION("aliases are scoped to their project")
    {
        CHECK_FALSE(r->find_user(other, "anon_456"));
        in_transaction(*w, [&](store_writer& tx) { CHECK(tx.resolve_user_id(other, "anon_456") == "anon_456"); });
    }
    SECTION("moved aliases follow the new user")
    {
        in_transaction(*w, [&](store_writer& tx) {
            tx.save_user(p, make_user("user_999", "usr_BBBBBBBBBBBBBBBB", 2000), true);
            tx.move_aliases(p, "user_123", "user_999");
        });
        CHECK(r->find_user(p, "anon_456")->user_id == "user_999");
        CHECK(r->find_user(p, "user_123")->aliases.empty());
    }
}

TEST_CASE("jobs list newest first in pages that a cursor continues", "[store]")
{
    scratch_db dir;
    auto db = open_sqlite_store(dir.path());
    auto w = db->open_writer();
    auto r = db->open_reader();
    std::int64_t p = 0, other = 0;
    in_transaction(*w, [&](store_writer& tx) {
        p = tx.ensure_project("alpha", 1000);
        other = tx.ensure_project("beta", 1000);
        for (int i = 0; i < 5; ++i)
            REQUIRE(tx.insert_job(make_job(p, "job-" + std::to_string(i), 1000 + i), ""));
        REQUIRE(tx.insert_job(make_job(other, "job-other", 2000), ""));
    });

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
        in_transaction(*w, [&](store_writer& tx) {
            tx.mark_job_running("job-1", 3000);
            tx.advance_job("job-1", 512, 7, 6, 1);
            tx.mark_job_running("job-2", 3100);
            tx.finish_job("job-2", job_status::failed, std::string("spool file lost"), 3200);
            auto loaded = tx.load_job("job-1");
            REQUIRE(loaded);
            CHECK(loaded->status == job_status::running);
            CHECK(loaded->processed_rows == 6);
            CHECK_FALSE(tx.load_job("job-none"));
            CHECK(tx.unfinished_jobs().size() == 4 + 1); // four of alpha's, one of beta's
        });
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
    SECTION("list_all_jobs spans projects")
    {
        CHECK(r->list_all_jobs(100).size() == 6);
        CHECK(r->list_all_jobs(2).size() == 2);
    }
}

TEST_CASE("job row errors list by line in pages", "[store]")
{
    scratch_db dir;
    auto db = open_sqlite_store(dir.path());
    auto w = db->open_writer();
    auto r = db->open_reader();
    const std::string job = "job-errors";
    in_transaction(*w, [&](store_writer& tx) {
        std::int64_t p = tx.ensure_project("alpha", 1000);
        REQUIRE(tx.insert_job(make_job(p, job, 1000), ""));
        REQUIRE(tx.insert_job(make_job(p, "job-quiet", 1001), ""));
        for (int line : {9, 3, 5, 12, 7})
            tx.insert_job_error(job, {line, "user_" + std::to_string(line), "user_id", "user_id is required"});
    });

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
    scratch_db dir;
    auto db = open_sqlite_store(dir.path());
    auto w = db->open_writer();
    auto r = db->open_reader();
    const std::string digest(64, 'a');
    auto keyed = [](std::int64_t project, const std::string& job_id, std::int64_t submitted_at) {
        job_record j = make_job(project, job_id, submitted_at);
        j.idempotency_key = "nightly";
        return j;
    };
    std::int64_t p = 0, other = 0;
    bool first = false;
    in_transaction(*w, [&](store_writer& tx) {
        p = tx.ensure_project("alpha", 1000);
        other = tx.ensure_project("beta", 1000);
        first = tx.insert_job(keyed(p, "job-first", 1000), digest);
    });
    REQUIRE(first);

    SECTION("the key is found with its digest, by the writer and the reader")
    {
        in_transaction(*w, [&](store_writer& tx) {
            auto held = tx.find_job_by_idempotency_key(p, "nightly", 0);
            REQUIRE(held);
            CHECK(held->job.job_id == "job-first");
            CHECK(held->upload_sha256 == digest);
            CHECK_FALSE(tx.find_job_by_idempotency_key(p, "nightly", 1001));
            CHECK_FALSE(tx.find_job_by_idempotency_key(other, "nightly", 0));
        });
        auto seen = r->find_job_by_idempotency_key(p, "nightly", 0);
        REQUIRE(seen);
        CHECK(seen->job_id == "job-first");
        CHECK(seen->idempotency_key == "nightly");
    }
    SECTION("a second job with the key is not inserted, whatever its digest; another project's is")
    {
        in_transaction(*w, [&](store_writer& tx) {
            CHECK_FALSE(tx.insert_job(keyed(p, "job-twin", 1001), digest));
            CHECK_FALSE(tx.insert_job(keyed(p, "job-other-body", 1002), std::string(64, 'b')));
            CHECK(tx.insert_job(keyed(other, "job-beta", 1003), digest));
        });
        CHECK_FALSE(r->find_job(p, "job-twin"));
        CHECK_FALSE(r->find_job(p, "job-other-body"));
        CHECK(r->find_job(other, "job-beta"));
        CHECK(r->list_all_jobs(10).size() == 2);
    }
    SECTION("jobs without a key never clash")
    {
        in_transaction(*w, [&](store_writer& tx) {
            CHECK(tx.insert_job(make_job(p, "job-a", 1001), ""));
            CHECK(tx.insert_job(make_job(p, "job-b", 1002), ""));
        });
        CHECK(r->list_all_jobs(10).size() == 3);
    }
    SECTION("clearing forgets the key only on jobs submitted before the window")
    {
        in_transaction(*w, [&](store_writer& tx) {
            tx.clear_idempotency_key(p, "nightly", 1000);
            CHECK_FALSE(tx.insert_job(keyed(p, "job-too-soon", 2000), digest));
            tx.clear_idempotency_key(p, "nightly", 1001);
            REQUIRE(tx.insert_job(keyed(p, "job-next-day", 90'000'000), std::string(64, 'c')));
            auto held = tx.find_job_by_idempotency_key(p, "nightly", 0);
            REQUIRE(held);
            CHECK(held->job.job_id == "job-next-day");
            CHECK(held->upload_sha256 == std::string(64, 'c'));
        });
        // The old job stays, without its key.
        auto old = r->find_job(p, "job-first");
        REQUIRE(old);
        CHECK_FALSE(old->idempotency_key);
    }
}
