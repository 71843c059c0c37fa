#include "common/store/sqlite/sqlite_writer.hpp"

#include "common/ops/log.hpp"
#include "common/store/sqlite/batch_operations.hpp"
#include "common/store/sqlite/job_rows.hpp"
#include "common/store/sqlite/merge_function.hpp"
#include "common/store/sqlite/sqlite.hpp"

namespace profiled {
namespace {

// The single write connection. Nothing is remembered between batches: another writer (another process, or
// another daemon on a shared engine) may have changed any row.
class sqlite_writer final : public store_writer {
public:
    explicit sqlite_writer(const std::string& path) : db_(path, false)
    {
        register_merge_function(db_.handle());
        // A SQLite database has one daemon at a time (the data directory's lock), so every lease left in it is a
        // dead process's: freed here, so that restarting resumes its jobs at once instead of after the lease.
        // The only other writers are short CLI commands, which claim no jobs; should one free a live daemon's
        // leases, that daemon renews them within a third of a lease, and its claims skip its own projects anyway.
        sqlite_transaction tx(db_);
        clear_job_leases(db_);
        tx.commit();
    }

    // Plain operations (upserts, job steps) run without savepoints, two statements fewer each; should one of them
    // fail, the batch runs again with every operation in its own savepoint, so a failed one undoes only itself.
    std::vector<operation_outcome> apply(const std::vector<store_operation>& ops) override
    {
        db_.check_not_moved();
        std::vector<operation_outcome> outcomes;
        {
            sqlite_transaction tx(db_);
            if (run_batch(ops, outcomes, false)) {
                tx.commit();
                return outcomes;
            }
        }
        sqlite_transaction tx(db_);
        run_batch(ops, outcomes, true);
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
        return id;
    }

    void insert_key(const api_key_record& key) override
    {
        sqlite_transaction tx(db_);
        db_.query("INSERT INTO api_keys(project_id, kind, prefix, key_hash, created_at) VALUES (?, ?, ?, ?, ?)",
                  key.project_id, key_kind_name(key.kind), key.prefix, key.key_hash, key.created_at)
            .run();
        tx.commit();
    }

    int revoke_keys(const std::string& prefix, std::int64_t now) override
    {
        sqlite_transaction tx(db_);
        db_.query("UPDATE api_keys SET revoked_at = ? WHERE revoked_at IS NULL AND substr(prefix, 1, length(?)) = ?",
                  now, prefix, prefix)
            .run();
        int n = db_.changes();
        tx.commit();
        return n;
    }

private:
    // Runs every operation inside the open transaction, each refusable one (or every one, when savepoint_all)
    // in its own savepoint; false when a plain operation failed, which leaves the transaction to roll back and
    // the batch to be run again with savepoint_all.
    bool run_batch(const std::vector<store_operation>& ops, std::vector<operation_outcome>& outcomes,
                   bool savepoint_all)
    {
        outcomes.assign(ops.size(), {});
        for (std::size_t i = 0; i < ops.size(); ++i) {
            bool own_savepoint = savepoint_all || is_refusable(ops[i]);
            if (own_savepoint)
                db_.exec("SAVEPOINT operation");
            try {
                outcomes[i] = run_operation(db_, ops[i]);
            } catch (const store_error&) {
                // A failed statement may have ended the whole transaction (disk full, I/O error): give up the batch.
                throw;
            } catch (const std::exception& e) {
                if (!own_savepoint)
                    return false; // its half-done changes cannot be undone alone
                log_event(log_level::error, "writer.error", e.what());
                outcomes[i] = {};
                outcomes[i].refused = internal_error();
            }
            if (!own_savepoint) {
                if (outcomes[i].refused)
                    return false;
                continue;
            }
            if (outcomes[i].refused)
                db_.exec("ROLLBACK TO operation; RELEASE operation");
            else
                db_.exec("RELEASE operation");
        }
        return true;
    }

    sqlite_connection db_;
};

} // namespace

std::unique_ptr<store_writer> open_sqlite_writer(const std::string& path) { return std::make_unique<sqlite_writer>(path); }

} // namespace profiled
