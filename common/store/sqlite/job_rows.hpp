// The SQLite engine's row-level verbs on jobs, their row errors and their leases; private to the engine, called
// inside the writer's open transaction.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/profiles/profile.hpp"
#include "common/store/sqlite/sqlite.hpp"
#include "common/store/store_operations.hpp"

namespace profiled {

// Inserts a new job, its Idempotency-Key (if any) bound to upload_sha256, and says whether it did; it does not
// when another job of the project holds that key. A key is unique per project, so the insert has the final word.
bool insert_job_row(sqlite_connection& db, const job_record& job, const std::string& upload_sha256);
// Forgets the key on the project's jobs submitted before not_before, so that it can be used again.
void clear_idempotency_key(sqlite_connection& db, std::int64_t project_id, const std::string& key,
                           std::int64_t not_before);
// The claimed job, or nothing: see claim_job in store_operations.hpp.
std::optional<job_record> claim_job_row(sqlite_connection& db, const claim_job& claim);
// Records a processed chunk (checkpoint, counts, row errors, running, processing time), renewing the lease; refused
// job_cancelled when the job's cancel was asked for, lease_lost when the advance's owner no longer holds its lease.
std::optional<api_error> advance_job_row(sqlite_connection& db, const advance_job& advance);
// Keeps the lease of a waiting job; refused job_cancelled or lease_lost as advance_job_row is.
std::optional<api_error> renew_job_lease_row(sqlite_connection& db, const renew_job_lease& renew);
// Ends the job and frees its lease; refused (lease_lost) when an owner is given that no longer holds it.
// Every end of a job goes through here, a cancelled one's too.
std::optional<api_error> finish_job_row(sqlite_connection& db, const finish_job& finish);
// Keeps a client's cancel request with the job and ends it at once when no daemon is working on it (through
// finish_job_row); see cancel_job in store_operations.hpp.
operation_outcome cancel_job_row(sqlite_connection& db, const cancel_job& cancel);
// Frees every job's lease; returns how many were held.
int clear_job_leases(sqlite_connection& db);

} // namespace profiled
