// The deferred-durability writer's WAL upkeep: its checkpoint runs in maintain (the durability thread's call),
// not inside a commit, and a commit still checkpoints by itself when maintain falls far behind. Seen from outside
// as the database file growing once the WAL's pages are copied back into it.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
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
};

} // namespace

TEST_CASE("a deferred writer's WAL is copied into the database by maintain, not by its commits", "[store][wal]")
{
    deferred_store s;

    test::apply_one(*s.w, new_users(s.project, 0, 1500)); // well past SQLite's automatic checkpoint of 1,000 pages
    s.w->make_durable();
    auto before = s.db_size();
    s.w->maintain();
    auto after = s.db_size();
    CHECK(after > before + 1000 * 4096);
    // Durable and readable after maintain, as before.
    CHECK(s.db->open_reader()->find_user(s.project, "user_1499"));
}

TEST_CASE("a deferred writer's commits still checkpoint when maintain is never asked", "[store][wal]")
{
    deferred_store s;

    auto start = s.db_size();
    for (int batch = 0; batch < 10; ++batch)
        test::apply_one(*s.w, new_users(s.project, batch * 1000, 1000));
    s.w->make_durable();
    // 10,000 pages written, past the fallback of 8,000: at least those went into the database file.
    CHECK(s.db_size() > start + 7000 * 4096);
}
