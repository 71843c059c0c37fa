// The PostgreSQL engine across a server restart, on the throwaway server: an unreachable server is a store_error
// of kind unavailable, never a hang; writers and readers whose connections the restart closed work again on
// their first use; and key changes are announced to a waiting reader at once.
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include <catch2/catch.hpp>

#include "common/api_keys.hpp"
#include "common/store/postgres/postgres_store.hpp"
#include "common/store/store.hpp"
#include "common/store/store_error.hpp"
#include "tests/support/postgres_server.hpp"
#include "tests/support/store_batches.hpp"

using namespace profiled;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

namespace {

// The failure kind a call threw, or "none".
template <typename Call>
std::string failure_of(Call call)
{
    try {
        call();
    } catch (const store_error& e) {
        return std::string(failure_name(e.kind()));
    }
    return "none";
}

// A user upsert of the project with one property.
upsert_users one_user(std::int64_t project, const std::string& user_id)
{
    user_upsert row;
    row.user_id = user_id;
    row.properties = R"({"plan":"pro"})";
    row.origin = "{}";
    return upsert_users{project, {row}, 1000};
}

} // namespace

TEST_CASE("a PostgreSQL restart: unavailable while down, then writers and readers work again on first use",
          "[store][postgres][outage]")
{
    auto& server = test::postgres_server::instance();
    auto db = open_postgres_store(server.fresh_database_url());
    auto writer = db->open_writer();
    auto reader = db->open_reader();
    std::int64_t project = writer->ensure_project("default", 1);
    test::apply_one(*writer, one_user(project, "before"));
    REQUIRE(reader->find_user(project, "before"));

    server.stop_for_outage();
    auto started = steady::now();
    CHECK(failure_of([&] { test::apply_one(*writer, one_user(project, "during")); }) == "unavailable");
    CHECK(failure_of([&] { reader->find_user(project, "before"); }) == "unavailable");
    CHECK(failure_of([&] { reader->key_version(); }) == "unavailable");
    CHECK(failure_of([&] { db->open_reader(); }) == "unavailable");
    // Refused at once: nothing waits for a server that is not there.
    CHECK(steady::now() - started < 2s);

    server.start_after_outage();
    SECTION("a writer whose connection the restart closed commits its next batch")
    {
        CHECK(failure_of([&] { test::apply_one(*writer, one_user(project, "after")); }) == "none");
        CHECK(reader->find_user(project, "after"));
    }
    SECTION("a reader whose connection the restart closed answers its next read")
    {
        auto found = reader->find_user(project, "before");
        CHECK(found);
        CHECK_FALSE(reader->find_user(project, "during"));
    }
}

TEST_CASE("a key change is announced to a reader waiting for one, and a lost connection is reported, not waited on",
          "[store][postgres][keys]")
{
    auto& server = test::postgres_server::instance();
    auto db = open_postgres_store(server.fresh_database_url());
    auto writer = db->open_writer();
    auto watcher = db->open_reader();
    std::int64_t project = writer->ensure_project("default", 1);
    auto first = watcher->wait_key_version(0ms); // starts listening
    REQUIRE(first);

    SECTION("revoked by another connection: the wait ends at once with the new version")
    {
        auto made = generate_api_key(key_kind::secret);
        writer->insert_key({0, project, "default", key_kind::secret, made.prefix, made.key_hash, 1, std::nullopt});
        auto after_insert = watcher->wait_key_version(5000ms);
        REQUIRE(after_insert);
        CHECK(*after_insert != *first);
        std::thread revoke([&] {
            std::this_thread::sleep_for(100ms);
            writer->revoke_keys(made.prefix, 2);
        });
        auto started = steady::now();
        auto after_revoke = watcher->wait_key_version(5000ms);
        auto waited = steady::now() - started;
        revoke.join();
        REQUIRE(after_revoke);
        CHECK(*after_revoke != *after_insert);
        CHECK(waited < 2s);
    }
    SECTION("nothing changes: the wait lasts its timeout and the version stays")
    {
        auto started = steady::now();
        CHECK(watcher->wait_key_version(200ms) == first);
        CHECK(steady::now() - started >= 190ms);
    }
    SECTION("the server goes away while waiting: unavailable, and listening again once it is back")
    {
        std::thread stop([&] {
            std::this_thread::sleep_for(100ms);
            server.stop_for_outage();
        });
        auto started = steady::now();
        CHECK(failure_of([&] { watcher->wait_key_version(10000ms); }) == "unavailable");
        CHECK(steady::now() - started < 5s);
        stop.join();
        server.start_after_outage();
        CHECK(watcher->wait_key_version(0ms) == first);
        auto made = generate_api_key(key_kind::secret);
        writer->insert_key({0, project, "default", key_kind::secret, made.prefix, made.key_hash, 1, std::nullopt});
        started = steady::now();
        auto changed = watcher->wait_key_version(5000ms);
        REQUIRE(changed);
        CHECK(*changed != *first);
        CHECK(steady::now() - started < 2s);
    }
}
