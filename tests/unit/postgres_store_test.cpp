// What only the PostgreSQL engine has to get right, on the throwaway server: several daemons at once (migrations,
// claims, people updates), and database URLs whose password must never show.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <boost/json/parse.hpp>
#include <catch2/catch.hpp>

#include "common/profiles/people_operations.hpp"
#include "common/store/migrations.hpp"
#include "common/store/open_store.hpp"
#include "common/store/postgres/postgres.hpp"
#include "common/store/postgres/postgres_store.hpp"
#include "common/store/store.hpp"
#include "tests/support/postgres_server.hpp"
#include "tests/support/scratch_dir.hpp"
#include "tests/support/store_batches.hpp"

using namespace profiled;

namespace {

// A queued users job of the project.
job_record queued_job(std::int64_t project, const std::string& job_id, std::int64_t submitted_at)
{
    job_record j;
    j.job_id = job_id;
    j.project_id = project;
    j.total_rows = 10;
    j.file_size = 100;
    j.submitted_at = submitted_at;
    return j;
}

// The URL with a password in its user info (the throwaway server trusts its socket, so any password connects).
std::string with_password(const std::string& url, const std::string& password)
{
    std::string out = url;
    return out.replace(out.find("postgres@"), 9, "postgres:" + password + "@");
}

} // namespace

TEST_CASE("four daemons opening one new database at once migrate it once", "[store][postgres]")
{
    std::string url = test::fresh_postgres_url();
    std::atomic<int> opened = 0;
    std::vector<std::string> failures(4);
    std::vector<std::thread> daemons;
    for (int i = 0; i < 4; ++i)
        daemons.emplace_back([&, i] {
            try {
                open_postgres_store(url);
                ++opened;
            } catch (const std::exception& e) {
                failures[i] = e.what();
            }
        });
    for (auto& t : daemons)
        t.join();
    for (const auto& f : failures)
        CHECK(f.empty());
    CHECK(opened == 4);

    pg_connection db(url);
    auto rows = db.query("SELECT version, count(*) FROM schema_migrations GROUP BY version ORDER BY version");
    const auto& migrations = embedded_postgres_migrations();
    REQUIRE(rows.size() == static_cast<int>(migrations.size()));
    for (int i = 0; i < rows.size(); ++i) {
        CHECK(rows.int64(i, 0) == migrations[i].version);
        CHECK(rows.int64(i, 1) == 1);
    }
    for (const char* table : {"projects", "api_keys", "users", "companies", "aliases", "jobs", "job_errors"}) {
        CAPTURE(table);
        CHECK(db.query("SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename = $1", table)
                  .int64(0, 0) == 1);
    }
}

TEST_CASE("a PostgreSQL database with a newer schema than the binary is refused, its URL without the password",
          "[store][postgres]")
{
    std::string url = with_password(test::fresh_postgres_url(), "hunter2-secret");
    open_postgres_store(url);
    int newest = embedded_postgres_migrations().back().version;
    pg_connection(url).query("INSERT INTO schema_migrations(version, name, applied_at) VALUES ($1, 'future', 0)",
                             newest + 7);
    try {
        open_postgres_store(url);
        FAIL("a newer database was opened");
    } catch (const std::runtime_error& e) {
        std::string message = e.what();
        CAPTURE(message);
        CHECK(message.find("schema version " + std::to_string(newest + 7)) != std::string::npos);
        CHECK(message.find("upgrade profiled") != std::string::npos);
        CHECK(message.find("hunter2-secret") == std::string::npos);
        CHECK(message.find("postgres:***@") != std::string::npos);
    }
}

TEST_CASE("a database that cannot be reached is unavailable, and its error never shows the password",
          "[store][postgres]")
{
    std::string url = with_password(test::postgres_server::instance().url_of("no_such_database"), "hunter2-secret");
    try {
        open_store("/nonexistent", url);
        FAIL("a missing database was opened");
    } catch (const store_error& e) {
        std::string message = e.what();
        CAPTURE(message);
        CHECK(e.kind() == store_failure::unavailable);
        CHECK(message.find("no_such_database") != std::string::npos);
        CHECK(message.find("hunter2-secret") == std::string::npos);
    }
}

TEST_CASE("database URLs are redacted of their passwords", "[store][postgres]")
{
    using row = std::pair<std::string, std::string>;
    auto [url, redacted] = GENERATE(table<std::string, std::string>({
        row{"postgresql://app:s3cret@db.example:5432/profiled", "postgresql://app:***@db.example:5432/profiled"},
        row{"postgres://app:p%40ss@db/profiled?sslmode=require", "postgres://app:***@db/profiled?sslmode=require"},
        row{"postgresql://app@db/profiled?password=s3cret&sslmode=require",
            "postgresql://app@db/profiled?password=***&sslmode=require"},
        row{"postgresql://db/profiled", "postgresql://db/profiled"},
    }));
    CAPTURE(url);
    CHECK(redact_database_url(url) == redacted);
}

TEST_CASE("engine failures are classified by SQLSTATE", "[store][postgres]")
{
    CHECK(classify_sqlstate("08006") == store_failure::unavailable);
    CHECK(classify_sqlstate("57P01") == store_failure::unavailable);
    CHECK(classify_sqlstate("") == store_failure::unavailable);
    CHECK(classify_sqlstate("53100") == store_failure::storage_full);
    CHECK(classify_sqlstate("40001") == store_failure::busy);
    CHECK(classify_sqlstate("40P01") == store_failure::busy);
    CHECK(classify_sqlstate("55P03") == store_failure::busy);
    CHECK(classify_sqlstate("25006") == store_failure::unwritable);
    CHECK(classify_sqlstate("42P01") == store_failure::other);

    // And a real one: a read-only transaction refusing a write is unwritable.
    std::string url = test::fresh_postgres_url();
    pg_connection db(url);
    db.exec("BEGIN READ ONLY");
    try {
        db.exec("CREATE TABLE t (x int)");
        FAIL("a read-only transaction wrote");
    } catch (const postgres_error& e) {
        CHECK(e.sqlstate() == "25006");
        CHECK(e.kind() == store_failure::unwritable);
    }
}

TEST_CASE("a claim skips a job another daemon is claiming at that moment, and two writers never share a job",
          "[store][postgres][leases]")
{
    std::string url = test::fresh_postgres_url();
    auto db = open_postgres_store(url);
    auto writer = db->open_writer();
    std::int64_t project = writer->ensure_project("alpha", 1);
    for (int i = 0; i < 20; ++i)
        test::apply_one(*writer, insert_job{queued_job(project, "job_" + std::to_string(100 + i), 10 + i), "", 0});

    SECTION("the oldest job, locked by another daemon's claim in progress, is skipped, not waited for")
    {
        pg_connection other_daemon(url);
        other_daemon.exec("BEGIN");
        other_daemon.exec("SELECT id FROM jobs WHERE job_id = 'job_100' FOR UPDATE");
        auto claimed = test::apply_one(*writer, claim_job{"daemon-b", -1, {}, 1000, 2000}).job;
        REQUIRE(claimed);
        CHECK(claimed->job_id == "job_101");
        other_daemon.exec("ROLLBACK");
        claimed = test::apply_one(*writer, claim_job{"daemon-b", -1, {}, 1000, 2000}).job;
        REQUIRE(claimed);
        CHECK(claimed->job_id == "job_100");
    }
    SECTION("two writers claiming at once each get different jobs, every job exactly once")
    {
        std::vector<std::vector<std::string>> got(2);
        std::vector<std::thread> daemons;
        for (int d = 0; d < 2; ++d)
            daemons.emplace_back([&, d] {
                auto w = db->open_writer();
                std::string owner = "daemon-" + std::to_string(d);
                // A claim that meets the other writer's claim of the project in progress (its advisory lock) gets
                // nothing for now, so a writer stops only after a few claims in a row found nothing.
                for (int empty = 0; empty < 5;) {
                    auto job = test::apply_one(*w, claim_job{owner, -1, {}, 1000, 100000}).job;
                    if (!job) {
                        ++empty;
                        std::this_thread::sleep_for(std::chrono::milliseconds(20));
                        continue;
                    }
                    empty = 0;
                    got[d].push_back(job->job_id);
                }
            });
        for (auto& t : daemons)
            t.join();
        std::set<std::string> all(got[0].begin(), got[0].end());
        all.insert(got[1].begin(), got[1].end());
        CHECK(got[0].size() + got[1].size() == 20);
        CHECK(all.size() == 20);
    }
}

TEST_CASE("$add from two writers at once loses no update", "[store][postgres][people_writes]")
{
    auto db = open_postgres_store(test::fresh_postgres_url());
    std::int64_t project = db->open_writer()->ensure_project("default", 1);
    auto ops = parse_people_operations(boost::json::parse(R"({"$add":{"logins":1}})").as_object());
    REQUIRE(ops.has_value());
    constexpr int per_writer = 100;
    std::vector<std::thread> daemons;
    std::atomic<int> failures = 0;
    for (int d = 0; d < 2; ++d)
        daemons.emplace_back([&] {
            try {
                auto w = db->open_writer();
                for (int i = 0; i < per_writer; ++i)
                    test::apply_one(*w, update_people{project, "u_1", *ops, 10 + i});
            } catch (const std::exception&) {
                ++failures;
            }
        });
    for (auto& t : daemons)
        t.join();
    CHECK(failures == 0);
    auto user = db->open_reader()->find_user(project, "u_1");
    REQUIRE(user);
    CHECK(user->properties.at("logins").to_number<std::int64_t>() == 2 * per_writer);
}

TEST_CASE("a key created by one daemon's writer changes the key version every daemon's reader sees",
          "[store][postgres][keys]")
{
    std::string url = test::fresh_postgres_url();
    auto db = open_postgres_store(url);
    auto reader = open_postgres_store(url)->open_reader();
    auto before = reader->key_version();
    auto writer = db->open_writer();
    std::int64_t project = writer->ensure_project("default", 1);
    writer->insert_key({0, project, "", key_kind::secret, "sk_abc", "hash-1", 5, std::nullopt});
    auto after_insert = reader->key_version();
    CHECK(after_insert != before);
    CHECK(writer->revoke_keys("sk_a", 6) == 1);
    CHECK(reader->key_version() != after_insert);
    CHECK(reader->find_key("hash-1")->revoked_at == 6);
}

TEST_CASE("of two daemons aliasing one anonymous id at once, one wins and the other is refused with a conflict",
          "[store][postgres][aliases]")
{
    std::string url = test::fresh_postgres_url();
    auto db = open_postgres_store(url);
    auto writer = db->open_writer();
    std::int64_t project = writer->ensure_project("default", 1);

    // The first daemon's alias, inserted and not yet committed when the second daemon's arrives.
    pg_connection first_daemon(url);
    first_daemon.exec("BEGIN");
    first_daemon.query("INSERT INTO aliases(project_id, alias_id, user_id, created_at) VALUES ($1, 'anon_1', "
                       "'jane', 5)",
                       project);
    std::optional<api_error> refused;
    std::thread second_daemon([&] {
        refused = writer->apply({alias_user{project, "john", "anon_1", 6}}).front().refused;
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    first_daemon.exec("COMMIT");
    second_daemon.join();

    REQUIRE(refused);
    CHECK(refused->kind == errc::conflict);
    CHECK(refused->code == "alias_conflict");
    auto jane = db->open_reader()->find_user(project, "anon_1");
    CHECK_FALSE(jane); // the alias stands, and resolves to jane, who has no profile yet
    CHECK(pg_connection(url).query("SELECT user_id FROM aliases WHERE alias_id = 'anon_1'").text(0, 0) == "jane");
}

TEST_CASE("a database URL selects the engine: PostgreSQL for postgresql:// and postgres://, SQLite without one",
          "[store][postgres]")
{
    test::scratch_dir dir;
    SECTION("no URL: SQLite in the data directory")
    {
        open_store(dir.path(), "");
        CHECK(std::filesystem::exists(dir.file("profiled.db")));
    }
    SECTION("a PostgreSQL URL, in either spelling: that database, nothing in the data directory")
    {
        std::string url = test::fresh_postgres_url();
        auto scheme = GENERATE(as<std::string>{}, "postgresql://", "postgres://");
        std::string spelled = scheme + url.substr(url.find("://") + 3);
        open_store(dir.path(), spelled);
        CHECK_FALSE(std::filesystem::exists(dir.file("profiled.db")));
        CHECK(pg_connection(url).query("SELECT count(*) FROM schema_migrations").int64(0, 0) ==
              static_cast<std::int64_t>(embedded_postgres_migrations().size()));
    }
    SECTION("any other URL is refused rather than quietly ignored, without its password")
    {
        try {
            open_store(dir.path(), "mysql://app:hunter2-secret@db/profiled");
            FAIL("an unknown URL was accepted");
        } catch (const std::invalid_argument& e) {
            CHECK(std::string(e.what()).find("hunter2-secret") == std::string::npos);
        }
    }
}

TEST_CASE("text PostgreSQL cannot hold (a NUL) is stored as U+FFFD rather than failing the batch", "[store][postgres]")
{
    auto db = open_postgres_store(test::fresh_postgres_url());
    auto writer = db->open_writer();
    std::int64_t project = writer->ensure_project("default", 1);
    user_upsert nul_user;
    nul_user.user_id = std::string("nul\0id", 6);
    nul_user.properties = R"({"note":"a\u0000b","path":"c:\\u0000"})";
    user_upsert plain;
    plain.user_id = "plain";
    auto outcomes = writer->apply({upsert_users{project, {nul_user, plain}, 5, false}});
    CHECK_FALSE(outcomes.front().refused);

    auto reader = db->open_reader();
    auto found = reader->find_user(project, std::string("nul\0id", 6));
    REQUIRE(found);
    CHECK(found->user_id == "nul\xEF\xBF\xBDid");
    CHECK(found->properties.at("note").as_string() == "a\xEF\xBF\xBD"
                                                      "b");
    // An escaped backslash followed by u0000 is text, not a NUL, and stays as it was.
    CHECK(found->properties.at("path").as_string() == "c:\\u0000");
    CHECK(reader->find_user(project, "plain"));
}

TEST_CASE("bytes that are not UTF-8 go as U+FFFD: a lookup finds nothing instead of failing, a write is found again",
          "[store][postgres]")
{
    auto db = open_postgres_store(test::fresh_postgres_url());
    auto writer = db->open_writer();
    std::int64_t project = writer->ensure_project("default", 1);
    auto reader = db->open_reader();
    // As GET /v1/users/%C3%28 and its kind ask (a URL path is bytes, not UTF-8).
    CHECK_FALSE(reader->find_user(project, "\xC3\x28"));
    CHECK_FALSE(reader->find_company(project, "\xFF"));
    CHECK_FALSE(reader->find_job(project, "\xFF"));

    user_upsert odd;
    odd.user_id = "odd\xFF";
    auto outcomes = writer->apply({upsert_users{project, {odd}, 5, false}});
    CHECK_FALSE(outcomes.front().refused);
    auto found = reader->find_user(project, "odd\xFF");
    REQUIRE(found);
    CHECK(found->user_id == "odd\xEF\xBF\xBD");
}

TEST_CASE("two writers upserting the same users in opposite orders both commit, each key merged in",
          "[store][postgres][merge]")
{
    auto db = open_postgres_store(test::fresh_postgres_url());
    std::int64_t project = db->open_writer()->ensure_project("default", 1);
    constexpr int users = 200, rounds = 10;
    std::atomic<int> failures = 0;
    std::vector<std::thread> daemons;
    for (int d = 0; d < 2; ++d)
        daemons.emplace_back([&, d] {
            try {
                auto w = db->open_writer();
                for (int round = 0; round < rounds; ++round) {
                    std::vector<user_upsert> chunk;
                    for (int i = 0; i < users; ++i) {
                        user_upsert u;
                        u.user_id = "u" + std::to_string(d == 0 ? i : users - 1 - i);
                        u.properties = "{\"by_" + std::to_string(d) + "\":" + std::to_string(round) + "}";
                        chunk.push_back(std::move(u));
                    }
                    w->apply({upsert_users{project, std::move(chunk), 10 + round, false}});
                }
            } catch (const std::exception&) {
                ++failures;
            }
        });
    for (auto& t : daemons)
        t.join();
    CHECK(failures == 0);
    auto reader = db->open_reader();
    for (int i : {0, users / 2, users - 1}) {
        auto user = reader->find_user(project, "u" + std::to_string(i));
        REQUIRE(user);
        CHECK(user->properties.at("by_0").to_number<int>() == rounds - 1);
        CHECK(user->properties.at("by_1").to_number<int>() == rounds - 1);
    }
}

TEST_CASE("a chunk naming one user twice, directly and through an alias, merges the changes in order",
          "[store][postgres][merge]")
{
    auto db = open_postgres_store(test::fresh_postgres_url());
    auto writer = db->open_writer();
    std::int64_t project = writer->ensure_project("default", 1);
    test::apply_one(*writer, alias_user{project, "jane", "anon_1", 5});
    user_upsert first, second, third;
    first.user_id = "jane";
    first.email = "jane@example.com";
    first.properties = R"({"plan":"free","seats":1})";
    second.user_id = "anon_1";
    second.properties = R"({"plan":"pro","trial":null})";
    third.user_id = "jane";
    third.properties = R"({"seats":3})";
    writer->apply({upsert_users{project, {first, second, third}, 9, false}});
    auto jane = db->open_reader()->find_user(project, "jane");
    REQUIRE(jane);
    CHECK(jane->email == "jane@example.com");
    CHECK(jane->properties.at("plan") == "pro");
    CHECK(jane->properties.at("seats") == 3);
    CHECK(jane->properties.at("trial").is_null());
    CHECK_FALSE(db->open_reader()->find_user(project, "nobody"));
}
