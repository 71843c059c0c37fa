// The deferred-durability writer's WAL upkeep: maintain (the durability thread's call) has the checkpointer's
// thread copy the WAL back, not a commit, and a commit still checkpoints by itself when the WAL grows far. Seen
// from outside as the database file growing once the WAL's pages are copied back into it.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "common/store/open_store.hpp"
#include "common/store/store.hpp"
#include "tests/support/scratch_dir.hpp"
#include "tests/support/store_batches.hpp"

using namespace profiled;

namespace {

// A batch of n new users with properties big enough to fill about a page each.
upsert_users new_users(std::int64_t project, int from, int n)
{
    upsert_users op{project, {}, 1000, false};
    std::string padding(3000, 'x');
    for (int i = from; i < from + n; ++i) {
        user_upsert row;
        row.user_id = "user_" + std::to_string(i);
        row.properties = R"({"padding":")" + padding + R"("})";
        op.rows.push_back(std::move(row));
    }
    return op;
}

// A fresh store, its deferred-durability writer and one project.
struct deferred_store {
    test::scratch_dir dir;
    std::unique_ptr<store> db = open_store(dir.path());
    std::unique_ptr<store_writer> w = db->open_writer(commit_durability::deferred);
    std::int64_t project = w->ensure_project("default", 1);

    // The database file's size in bytes.
    std::uintmax_t db_size() const { return std::filesystem::file_size(dir.file("profiled.db")); }

    // The database file's size once it passes at_least bytes, or after 10 s (the checkpointer works beside).
    std::uintmax_t db_size_reaching(std::uintmax_t at_least) const
    {
        auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (db_size() < at_least && std::chrono::steady_clock::now() < give_up)
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        return db_size();
    }
};

} // namespace

TEST_CASE("a deferred writer's WAL is copied into the database by maintain, not by its commits", "[store][wal]")
{
    deferred_store s;

    test::apply_one(*s.w, new_users(s.project, 0, 1500)); // well past SQLite's automatic checkpoint of 1,000 pages
    s.w->make_durable();
    auto before = s.db_size();
    CHECK(before < 1000 * 4096); // the commit copied nothing
    s.w->maintain();
    CHECK(s.db_size_reaching(before + 1000 * 4096) > before + 1000 * 4096);
    // Durable and readable after maintain, as before.
    CHECK(s.db->open_reader()->find_user(s.project, "user_1499"));
}

TEST_CASE("a deferred writer's commits still checkpoint when maintain is never asked", "[store][wal]")
{
    deferred_store s;

    auto start = s.db_size();
    for (int batch = 0; batch < 33; ++batch)
        test::apply_one(*s.w, new_users(s.project, batch * 1000, 1000));
    s.w->make_durable();
    // 33,000 rows of a page each written, past the fallback of 32,000 WAL frames: most went into the database file.
    CHECK(s.db_size() > start + 25000 * 4096);
}
