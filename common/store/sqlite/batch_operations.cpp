#include "common/store/sqlite/batch_operations.hpp"

#include <stdexcept>

#include "common/store/sqlite/job_rows.hpp"
#include "common/store/sqlite/profile_erasure.hpp"
#include "common/store/sqlite/profile_rows.hpp"
#include "common/store/sqlite/profile_updates.hpp"
#include "common/store/sqlite/stored_rows.hpp"
#include "common/store/sqlite/webhook_rows.hpp"

namespace profiled {

namespace {

// Overloads of one visitor, one per operation type.
template <typename... Fn>
struct each_operation : Fn... {
    using Fn::operator()...;
};
template <typename... Fn>
each_operation(Fn...) -> each_operation<Fn...>;

} // namespace

operation_outcome run_operation(sqlite_connection& db, const store_operation& op)
{
    operation_outcome out;
    std::visit(each_operation{
                   [&](const upsert_users& u) {
                       upsert_user_rows(db, u.project_id, u.rows, u.now, u.report_outcomes ? &out.upserts : nullptr);
                   },
                   [&](const upsert_companies& c) { upsert_company_rows(db, c.project_id, c.rows, c.now); },
                   [&](const update_people& p) { out.refused = update_people_rows(db, p); },
                   [&](const alias_user& a) { out.refused = alias_user_rows(db, a); },
                   [&](const delete_user& d) { out.count = delete_user_row(db, d.project_id, d.user_id); },
                   [&](const insert_job& i) {
                       const job_record& job = i.job;
                       if (job.idempotency_key)
                           clear_idempotency_key(db, job.project_id, *job.idempotency_key, i.idempotency_not_before);
                       if (insert_job_row(db, job, i.upload_sha256))
                           return;
                       if (!job.idempotency_key)
                           throw std::logic_error("a job without an idempotency key was not inserted");
                       out.earlier_job =
                           find_job_by_key(db, job.project_id, *job.idempotency_key, i.idempotency_not_before);
                       if (!out.earlier_job)
                           throw std::logic_error("a job holds the idempotency key but cannot be found");
                   },
                   [&](const claim_job& c) { out.job = claim_job_row(db, c); },
                   [&](const advance_job& a) { out.refused = advance_job_row(db, a); },
                   [&](const renew_job_lease& r) { out.refused = renew_job_lease_row(db, r); },
                   [&](const finish_job& f) { out.refused = finish_job_row(db, f); },
                   [&](const erase_users& e) { out.count = erase_user_rows(db, e); },
                   [&](const erase_companies& e) { out.count = erase_company_rows(db, e); },
                   [&](const cancel_job& c) { out = cancel_job_row(db, c); },
                   [&](const create_webhook& c) { out.refused = create_webhook_row(db, c); },
                   [&](const delete_webhook& d) { out.count = delete_webhook_row(db, d); },
                   [&](const claim_deliveries& c) { out.deliveries = claim_delivery_rows(db, c); },
                   [&](const record_delivery_attempt& r) { out.refused = record_delivery_attempt_row(db, r); },
               },
               op);
    return out;
}

} // namespace profiled
