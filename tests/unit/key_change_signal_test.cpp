// The key-change signal: a counter in profiled.db-keys that every process maps, so a key changed by the CLI is
// seen by the daemon's readers without a read transaction per request, and a change made without it (SQL by hand)
// is still seen within the readers' periodic full check.
#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

#include <catch2/catch.hpp>

#include "common/api_keys.hpp"
#include "common/store/open_store.hpp"
#include "common/store/sqlite/key_change_signal.hpp"
#include "common/store/sqlite/sqlite.hpp"
#include "tests/support/scratch_dir.hpp"

using namespace profiled;

TEST_CASE("two mappings of the key-change file see each other's bumps at once", "[keys][signal]")
{
    test::scratch_dir dir;
    std::string db = (std::filesystem::path(dir.path()) / "profiled.db").string();
    key_change_signal daemon_side(db);
    key_change_signal cli_side(db);
    REQUIRE(std::filesystem::file_size(db + "-keys") == sizeof(std::uint64_t));
    auto before = daemon_side.value();
    cli_side.bump();
    CHECK(daemon_side.value() == before + 1);
    daemon_side.bump();
    CHECK(cli_side.value() == before + 2);
}

TEST_CASE("a key-change file that cannot be opened gives a counter that never moves, and no failure", "[keys][signal]")
{
    key_change_signal nowhere("/nonexistent-dir/profiled.db");
    CHECK(nowhere.value() == 0);
    nowhere.bump();
    CHECK(nowhere.value() == 0);
}

TEST_CASE("a key added through the store moves the key version on the next read, and one added in SQL by hand "
          "within the full-check interval",
          "[keys][signal]")
{
    test::scratch_dir dir;
    auto db = open_store(dir.path());
    auto writer = db->open_writer(commit_durability::at_commit);
    auto reader = db->open_reader();
    auto project = writer->ensure_project("default", 1);
    auto v0 = reader->key_version();

    auto made = generate_api_key(key_kind::secret);
    writer->insert_key({0, project, "default", key_kind::secret, made.prefix, made.key_hash, 1, std::nullopt});
    auto v1 = reader->key_version();
    CHECK(v1 != v0);
    CHECK(reader->key_version() == v1);

    {
        // Another connection, as an operator's sqlite3 shell would be: the signal is not bumped.
        sqlite_connection by_hand((std::filesystem::path(dir.path()) / "profiled.db").string(), false);
        by_hand.exec("UPDATE api_keys SET revoked_at = 2");
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    auto started = std::chrono::steady_clock::now();
    while (reader->key_version() == v1 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    CHECK(reader->key_version() != v1);
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(1));
}
