// The PostgreSQL engine's writes of jobs, their row errors and their leases; private to the engine, called inside
// the writer's open transaction.
#pragma once

#include <optional>
#include <string>

#include "common/api_error.hpp"
#include "common/store/postgres/postgres.hpp"
#include "common/store/store_operations.hpp"

namespace profiled {

// Records the new job (forgetting its Idempotency-Key on the project's jobs older than the window first) with the
// last piece of its upload; the outcome names the earlier job instead when one within the window holds the key,
// or refuses the insert when the upload's earlier pieces are missing.
operation_outcome pg_insert_job(pg_connection& db, const insert_job& insert);
// The claimed job, or nothing: see claim_job in store_operations.hpp. Jobs another writer is claiming at this very
// moment are skipped (FOR UPDATE SKIP LOCKED), and so are projects (an advisory lock per project held until the
// claim commits), so two daemons claiming at once never get the same job nor jobs of the same project.
std::optional<job_record> pg_claim_job(pg_connection& db, const claim_job& claim);
// Records a processed chunk (checkpoint, counts, row errors, running, processing time), renewing the lease; refused
// job_cancelled when the job's cancel was asked for, lease_lost when the advance's owner no longer holds its lease.
std::optional<api_error> pg_advance_job(pg_connection& db, const advance_job& advance);
// Keeps the lease of a waiting job; refused job_cancelled or lease_lost as pg_advance_job is.
std::optional<api_error> pg_renew_job_lease(pg_connection& db, const renew_job_lease& renew);
// Ends the job, frees its lease and removes its upload from the spool; refused (lease_lost) when an owner is
// given that no longer holds it. Every end of a job goes through here, a cancelled one's too.
std::optional<api_error> pg_finish_job(pg_connection& db, const finish_job& finish);
// Keeps a client's cancel request with the job and ends it at once when no daemon is working on it (through
// pg_finish_job); see cancel_job in store_operations.hpp.
operation_outcome pg_cancel_job(pg_connection& db, const cancel_job& cancel);

} // namespace profiled
