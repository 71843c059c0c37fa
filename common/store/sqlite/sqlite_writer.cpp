#include "common/store/sqlite/sqlite_writer.hpp"

#include <algorithm>
#include <atomic>
#include <optional>

#include <sqlite3.h>

#include "common/ops/log.hpp"
#include "common/store/sqlite/batch_operations.hpp"
#include "common/store/sqlite/job_rows.hpp"
#include "common/store/sqlite/key_change_signal.hpp"
#include "common/store/sqlite/merge_function.hpp"
#include "common/store/sqlite/sqlite.hpp"
#include "common/store/sqlite/wal_checkpointer.hpp"
#include "common/store/sqlite/wal_sync.hpp"

namespace profiled {
namespace {

// The single write connection. Nothing is remembered between batches: another writer (another process, or
// another daemon on a shared engine) may have changed any row.
class sqlite_writer final : public store_writer {
public:
    sqlite_writer(const std::string& path, commit_durability durability) : db_(path, false), key_signal_(path)
    {
        register_merge_function(db_.handle());
        // A SQLite database has one daemon at a time (the data directory's lock), so every lease left in it is a
        // dead process's: freed here, so that restarting resumes its jobs at once instead of after the lease.
        // The only other writers are short CLI commands, which claim no jobs; should one free a live daemon's
        // leases, that daemon renews them within a third of a lease, and its claims skip its own projects anyway.
        sqlite_transaction tx(db_);
        clear_job_leases(db_);
        tx.commit();
        // That commit made the WAL file. Without WAL (a file system that refused it) every commit stays fsynced.
        if (durability == commit_durability::deferred && journal_mode() == "wal") {
            wal_.emplace(path);
            db_.exec("PRAGMA synchronous = NORMAL");
            checkpointer_.emplace(path, checkpoint_frames);
            sqlite3_wal_hook(db_.handle(), &sqlite_writer::after_commit, this);
        }
    }

    ~sqlite_writer() override
    {
        if (checkpointer_)
            sqlite3_wal_hook(db_.handle(), nullptr, nullptr);
    }

    // With synchronous=NORMAL SQLite still syncs the WAL header and every checkpoint, so the files stay
    // consistent; only the commits not yet synced here could be lost, and none of them has been answered.
    void make_durable() override
    {
        if (wal_)
            wal_->sync();
    }

    // The checkpoint runs on the checkpointer's thread, beside the next commits and syncs, instead of inside a
    // commit (SQLite's own automatic checkpoint, which after_commit keeps only as the fallback for a WAL the
    // checkpointer falls behind on).
    void maintain() override
    {
        if (checkpointer_)
            checkpointer_->wal_length(wal_frames_.load(std::memory_order_relaxed));
    }

    // Plain operations (upserts, job steps) run without savepoints, two statements fewer each; should one of them
    // fail, the batch runs again with every operation in its own savepoint, so a failed one undoes only itself.
    std::vector<operation_outcome> apply(const std::vector<store_operation>& ops,
                                         const std::vector<std::size_t>& unit_ends) override
    {
        db_.check_not_moved();
        std::vector<std::size_t> ends = unit_ends;
        if (ends.empty())
            for (std::size_t i = 1; i <= ops.size(); ++i)
                ends.push_back(i);
        if (checkpointer_ && holds_job_chunk(ops))
            checkpointer_->beside_background_work();
        std::vector<operation_outcome> outcomes;
        {
            sqlite_transaction tx(db_);
            if (run_batch(ops, ends, outcomes, false)) {
                tx.commit();
                return outcomes;
            }
        }
        sqlite_transaction tx(db_);
        run_batch(ops, ends, outcomes, true);
        tx.commit();
        return outcomes;
    }

    std::int64_t ensure_project(const std::string& name, std::int64_t now) override
    {
        sqlite_transaction tx(db_);
        db_.query("INSERT INTO projects(name, created_at) VALUES (?, ?) ON CONFLICT(name) DO NOTHING", name, now)
            .run();
        auto q = db_.query("SELECT id FROM projects WHERE name = ?", name);
        q.step();
        std::int64_t id = q.int64(0);
        tx.commit();
        make_durable();
        return id;
    }

    void insert_key(const api_key_record& key) override
    {
        sqlite_transaction tx(db_);
        db_.query("INSERT INTO api_keys(project_id, kind, prefix, key_hash, created_at) VALUES (?, ?, ?, ?, ?)",
                  key.project_id, key_kind_name(key.kind), key.prefix, key.key_hash, key.created_at)
            .run();
        tx.commit();
        make_durable();
        key_signal_.bump();
    }

    int revoke_keys(const std::string& prefix, std::int64_t now) override
    {
        sqlite_transaction tx(db_);
        db_.query("UPDATE api_keys SET revoked_at = ? WHERE revoked_at IS NULL AND substr(prefix, 1, length(?)) = ?",
                  now, prefix, prefix)
            .run();
        int n = db_.changes();
        tx.commit();
        make_durable();
        key_signal_.bump();
        return n;
    }

private:
    // WAL frames not yet copied past which the checkpointer checkpoints (SQLite's default automatic checkpoint),
    // and WAL length past which a commit checkpoints by itself. Under steady writes only that commit lets the WAL
    // start over (the checkpointer always ends a few commits behind), and it waits for the frames not yet copied,
    // so it is kept rare: about 130 MB of WAL at 4 KB pages.
    static constexpr int checkpoint_frames = 1000;
    static constexpr int fallback_checkpoint_frames = 32 * checkpoint_frames;

    // SQLite's hook after each commit on the writer connection: notes the WAL's length for maintain.
    static int after_commit(void* self, sqlite3* db, const char* schema, int frames)
    {
        static_cast<sqlite_writer*>(self)->wal_frames_.store(frames, std::memory_order_relaxed);
        if (frames >= fallback_checkpoint_frames)
            sqlite3_wal_checkpoint_v2(db, schema, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
        return SQLITE_OK;
    }

    // The connection's journal mode, as SQLite names it ("wal", "delete", ...).
    std::string journal_mode()
    {
        auto q = db_.query("PRAGMA journal_mode");
        return q.step() ? q.text(0) : std::string();
    }

    // Runs every unit inside the open transaction, each one holding a refusable operation (or every one, when
    // savepoint_all) in its own savepoint; false when an operation of a unit without a savepoint failed or was
    // refused, which leaves the transaction to roll back and the batch to be run again with savepoint_all.
    bool run_batch(const std::vector<store_operation>& ops, const std::vector<std::size_t>& unit_ends,
                   std::vector<operation_outcome>& outcomes, bool savepoint_all)
    {
        outcomes.assign(ops.size(), {});
        std::size_t begin = 0;
        for (std::size_t end : unit_ends) {
            bool own_savepoint = savepoint_all || std::any_of(ops.begin() + static_cast<std::ptrdiff_t>(begin),
                                                              ops.begin() + static_cast<std::ptrdiff_t>(end),
                                                              [](const store_operation& op) { return is_refusable(op); });
            if (own_savepoint)
                db_.exec("SAVEPOINT unit");
            std::optional<api_error> refused;
            for (std::size_t i = begin; i < end && !refused; ++i) {
                try {
                    outcomes[i] = run_operation(db_, ops[i]);
                } catch (const store_error&) {
                    // A failed statement may have ended the whole transaction (disk full, I/O error): give up the
                    // batch.
                    throw;
                } catch (const std::exception& e) {
                    if (!own_savepoint)
                        return false; // its half-done changes cannot be undone alone
                    log_event(log_level::error, "writer.error", e.what());
                    outcomes[i] = {};
                    outcomes[i].refused = internal_error();
                }
                refused = outcomes[i].refused;
            }
            if (refused && !own_savepoint)
                return false;
            if (refused) {
                db_.exec("ROLLBACK TO unit; RELEASE unit");
                // The unit's other operations were undone with it: they are refused alike, and return nothing.
                for (std::size_t i = begin; i < end; ++i) {
                    outcomes[i] = {};
                    outcomes[i].refused = refused;
                }
            } else if (own_savepoint) {
                db_.exec("RELEASE unit");
            }
            begin = end;
        }
        return true;
    }

    sqlite_connection db_;
    key_change_signal key_signal_; // bumped after each key change, for the readers of every process
    std::optional<wal_sync> wal_; // set when commits are deferred: the WAL file make_durable syncs
    std::optional<wal_checkpointer> checkpointer_; // with wal_
    std::atomic<int> wal_frames_{0};               // the WAL's length after the last commit
};

} // namespace

std::unique_ptr<store_writer> open_sqlite_writer(const std::string& path, commit_durability durability)
{
    return std::make_unique<sqlite_writer>(path, durability);
}

} // namespace profiled
