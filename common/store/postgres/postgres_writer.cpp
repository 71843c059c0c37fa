#include "common/store/postgres/postgres_writer.hpp"

#include <algorithm>
#include <optional>

#include "common/ops/log.hpp"
#include "common/store/postgres/job_writes.hpp"
#include "common/store/postgres/postgres.hpp"
#include "common/store/postgres/profile_erasure.hpp"
#include "common/store/postgres/profile_upserts.hpp"
#include "common/store/postgres/profile_writes.hpp"
#include "common/store/postgres/webhook_rows.hpp"

namespace profiled {
namespace {

// Overloads of one visitor, one per operation type.
template <typename... Fn>
struct each_operation : Fn... {
    using Fn::operator()...;
};
template <typename... Fn>
each_operation(Fn...) -> each_operation<Fn...>;

// Runs the operation inside the open transaction (large upserts unfolded when may_unfold); a refusal is in the
// outcome.
operation_outcome run_operation(pg_connection& db, const store_operation& op, bool may_unfold)
{
    operation_outcome out;
    std::visit(each_operation{
                   [&](const upsert_users& u) {
                       if (u.report_outcomes)
                           pg_upsert_users_reporting(db, u, out.upserts);
                       else
                           pg_upsert_profiles(db, {&op}, may_unfold);
                   },
                   [&](const upsert_companies&) { pg_upsert_profiles(db, {&op}, may_unfold); },
                   [&](const update_people& p) { out.refused = pg_update_people(db, p); },
                   [&](const alias_user& a) { out.refused = pg_alias_user(db, a); },
                   [&](const delete_user& d) { out.count = pg_delete_user(db, d.project_id, d.user_id); },
                   [&](const insert_job& i) { out = pg_insert_job(db, i); },
                   [&](const claim_job& c) { out.job = pg_claim_job(db, c); },
                   [&](const advance_job& a) { out.refused = pg_advance_job(db, a); },
                   [&](const renew_job_lease& r) { out.refused = pg_renew_job_lease(db, r); },
                   [&](const finish_job& f) { out.refused = pg_finish_job(db, f); },
                   [&](const erase_users& e) { out.count = pg_erase_users(db, e); },
                   [&](const erase_companies& e) { out.count = pg_erase_companies(db, e); },
                   [&](const cancel_job& c) { out = pg_cancel_job(db, c); },
                   [&](const create_webhook& c) { out.refused = pg_create_webhook(db, c); },
                   [&](const delete_webhook& d) { out.count = pg_delete_webhook(db, d); },
                   [&](const claim_deliveries& c) { out.deliveries = pg_claim_deliveries(db, c); },
                   [&](const record_delivery_attempt& r) { out.refused = pg_record_delivery_attempt(db, r); },
               },
               op);
    return out;
}

// Whether a batch that failed this way did nothing and may simply run again: a deadlock with another daemon's
// writer, or a serialization failure.
bool worth_retrying(const postgres_error& e) { return e.sqlstate() == "40P01" || e.sqlstate() == "40001"; }

// Whether a transaction that failed this way certainly did not commit and may run again on a fresh connection:
// the connection was lost before COMMIT was sent (a server restart found out only by using the connection). Lost
// after COMMIT was sent, nobody can say whether it committed, and it must not run twice.
bool lost_before_commit(const postgres_error& e, const pg_connection& db, const std::optional<pg_transaction>& tx)
{
    return e.kind() == store_failure::unavailable && db.lost() && !(tx && tx->commit_sent());
}

// A writer's connection. Nothing is remembered between batches: other daemons change rows at any time.
class postgres_writer final : public store_writer {
public:
    explicit postgres_writer(const std::string& url) : db_(url) {}

    std::vector<operation_outcome> apply(const std::vector<store_operation>& ops,
                                         const std::vector<std::size_t>& unit_ends) override
    {
        std::vector<std::size_t> ends = unit_ends;
        if (ends.empty())
            for (std::size_t i = 1; i <= ops.size(); ++i)
                ends.push_back(i);
        std::vector<operation_outcome> outcomes;
        bool savepoint_all = false;
        bool fold_all = false;
        bool reconnected = false;
        for (int attempt = 1;; ++attempt) {
            db_.reconnect_if_lost();
            std::optional<pg_transaction> tx;
            try {
                // A batch of upserts alone (a group of identifies) is one statement, its own transaction: one round
                // trip, durable when it returns. Lost with its connection it runs once more on a fresh one, like a
                // batch lost before COMMIT, committed or not: merging the same changes twice leaves what once does.
                if (!savepoint_all && std::all_of(ops.begin(), ops.end(), pg_foldable_upsert)) {
                    outcomes.assign(ops.size(), {});
                    if (!run_upserts(ops, 0, ops.size(), !fold_all)) {
                        savepoint_all = true;
                        continue;
                    }
                    return outcomes;
                }
                tx.emplace(db_);
                switch (run_batch(ops, ends, outcomes, savepoint_all, !fold_all)) {
                case batch_end::run_again:
                    savepoint_all = true;
                    continue;                               // rolled back; again with a savepoint around every unit
                case batch_end::roll_back: return outcomes; // the batch's one unit was refused: nothing to commit
                case batch_end::commit: tx->commit(); return outcomes;
                }
            } catch (const postgres_error& e) {
                if (!fold_all && pg_met_a_row_twice(e)) {
                    fold_all = true; // an alias made two ids of a large set one user: again, folded
                    continue;
                }
                // Once on a fresh connection: a second loss means the server is down, for the caller to report.
                if (!reconnected && lost_before_commit(e, db_, tx)) {
                    reconnected = true;
                    log_event(log_level::warn, "writer.reconnect", e.what());
                    continue;
                }
                if (attempt >= 3 || !worth_retrying(e))
                    throw;
                log_event(log_level::warn, "writer.retry", e.what());
            }
        }
    }

    std::int64_t ensure_project(const std::string& name, std::int64_t now) override
    {
        return in_transaction([&] {
            db_.query("INSERT INTO projects(name, created_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING", name,
                      now);
            return db_.query("SELECT id FROM projects WHERE name = $1", name).int64(0, 0);
        });
    }

    void insert_key(const api_key_record& key) override
    {
        in_transaction([&] {
            db_.query("INSERT INTO api_keys(project_id, kind, prefix, key_hash, created_at) "
                      "VALUES ($1, $2, $3, $4, $5)",
                      key.project_id, key_kind_name(key.kind), key.prefix, key.key_hash, key.created_at);
            announce_key_change();
            return 0;
        });
    }

    int revoke_keys(const std::string& prefix, std::int64_t now) override
    {
        return in_transaction([&] {
            auto r = db_.query("UPDATE api_keys SET revoked_at = $1 WHERE revoked_at IS NULL "
                               "AND left(prefix, length($2)) = $2",
                               now, prefix);
            announce_key_change();
            return static_cast<int>(r.affected());
        });
    }

private:
    // What work() returns, run in a transaction of its own; once more on a fresh connection when the connection
    // turns out lost before COMMIT was sent (see apply).
    template <typename Work>
    auto in_transaction(const Work& work) -> decltype(work())
    {
        for (bool reconnected = false;; reconnected = true) {
            db_.reconnect_if_lost();
            std::optional<pg_transaction> tx;
            try {
                tx.emplace(db_);
                auto result = work();
                tx->commit();
                return result;
            } catch (const postgres_error& e) {
                if (reconnected || !lost_before_commit(e, db_, tx))
                    throw;
            }
        }
    }

    // Tells every daemon listening (wait_key_version) that the keys changed, once the open transaction commits;
    // the trigger's version row is what they then read. A database without NOTIFY (YugabyteDB) keeps the change
    // all the same: daemons then see it by reading the version row, within a poll interval.
    void announce_key_change()
    {
        try {
            db_.exec(std::string("SAVEPOINT announce; NOTIFY ") + pg_key_channel + "; RELEASE SAVEPOINT announce");
        } catch (const postgres_error& e) {
            if (e.kind() == store_failure::unavailable)
                throw;
            db_.exec("ROLLBACK TO SAVEPOINT announce; RELEASE SAVEPOINT announce");
        }
    }

    // How run_batch left the open transaction.
    enum class batch_end {
        commit,    // every unit applied or undone alone: commit
        roll_back, // the one unit of the batch was refused (without a savepoint, which it did not need)
        run_again, // an operation of a unit without a savepoint failed: roll back, run again with savepoint_all
    };

    // Applies the foldable upserts ops[begin, end) as one statement; false when it failed other than as the engine
    // (the batch then runs again, each unit under its own savepoint, to tell which one).
    bool run_upserts(const std::vector<store_operation>& ops, std::size_t begin, std::size_t end, bool may_unfold)
    {
        std::vector<const store_operation*> upserts;
        upserts.reserve(end - begin);
        for (std::size_t i = begin; i < end; ++i)
            upserts.push_back(&ops[i]);
        try {
            pg_upsert_profiles(db_, upserts, may_unfold);
        } catch (const store_error&) {
            throw; // the engine failed: the whole batch goes
        } catch (const std::exception& e) {
            log_event(log_level::error, "writer.error", e.what());
            return false;
        }
        return true;
    }

    // Runs every unit inside the open transaction. A unit holding a refusable operation gets a savepoint of its
    // own when the batch has other units (or every unit does, when savepoint_all); consecutive units of foldable
    // upserts alone are applied together in one statement.
    batch_end run_batch(const std::vector<store_operation>& ops, const std::vector<std::size_t>& unit_ends,
                        std::vector<operation_outcome>& outcomes, bool savepoint_all, bool may_unfold)
    {
        outcomes.assign(ops.size(), {});
        std::size_t begin = 0;
        std::size_t upserts_from = 0; // the first unit of the run of foldable upserts not yet applied
        for (std::size_t u = 0; u < unit_ends.size(); ++u) {
            std::size_t end = unit_ends[u];
            auto first = ops.begin() + static_cast<std::ptrdiff_t>(begin);
            auto last = ops.begin() + static_cast<std::ptrdiff_t>(end);
            if (!savepoint_all && std::all_of(first, last, pg_foldable_upsert)) {
                begin = end;
                continue; // joins the run, applied when the run ends
            }
            if (upserts_from < begin && !run_upserts(ops, upserts_from, begin, may_unfold))
                return batch_end::run_again;
            bool refusable = savepoint_all || std::any_of(first, last, is_refusable);
            bool own_savepoint = refusable && (savepoint_all || unit_ends.size() > 1);
            if (own_savepoint)
                db_.exec("SAVEPOINT unit");
            std::optional<api_error> refused;
            for (std::size_t i = begin; i < end && !refused; ++i) {
                try {
                    outcomes[i] = run_operation(db_, ops[i], may_unfold);
                } catch (const store_error&) {
                    throw; // the engine failed: the whole batch goes
                } catch (const std::exception& e) {
                    if (!own_savepoint)
                        return batch_end::run_again;
                    log_event(log_level::error, "writer.error", e.what());
                    outcomes[i] = {};
                    outcomes[i].refused = internal_error();
                }
                refused = outcomes[i].refused;
            }
            if (refused) {
                for (std::size_t i = begin; i < end; ++i) {
                    outcomes[i] = {};
                    outcomes[i].refused = refused;
                }
                if (!own_savepoint)
                    return batch_end::roll_back;
                db_.exec("ROLLBACK TO SAVEPOINT unit; RELEASE SAVEPOINT unit");
            } else if (own_savepoint) {
                db_.exec("RELEASE SAVEPOINT unit");
            }
            begin = end;
            upserts_from = end;
        }
        if (upserts_from < begin && !run_upserts(ops, upserts_from, begin, may_unfold))
            return batch_end::run_again;
        return batch_end::commit;
    }

    pg_connection db_;
};

} // namespace

std::unique_ptr<store_writer> open_postgres_writer(const std::string& url)
{
    return std::make_unique<postgres_writer>(url);
}

} // namespace profiled
