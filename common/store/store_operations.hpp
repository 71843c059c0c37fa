// The domain operations a writer hands the store in one batch, and what each of them did.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "common/api_error.hpp"
#include "common/profiles/people_operations.hpp"
#include "common/profiles/profile.hpp"
#include "common/store/upload_spool.hpp"
#include "common/store/webhook_records.hpp"

namespace profiled {

// The job that holds an Idempotency-Key, with what the key was bound to when the job was submitted.
struct idempotent_job {
    job_record job;            // its type names the bulk route the key was used on
    std::string upload_sha256; // SHA-256 (hex) of the upload; empty for jobs older than the binding
};

// Merges each change into the user it names (following an alias), creating the users that are new. With
// report_outcomes the outcome says, for each row in order, whether the user was created and its internal id.
struct upsert_users {
    std::int64_t project_id = 0;
    std::vector<user_upsert> rows;
    std::int64_t now = 0;
    bool report_outcomes = false;
};

// Merges each change into its company, creating the companies that are new.
struct upsert_companies {
    std::int64_t project_id = 0;
    std::vector<company_upsert> rows;
    std::int64_t now = 0;
};

// Applies People API operations to the user distinct_id resolves to, creating the profile when new; refused
// (and undone alone) when an operation does not fit the stored value.
struct update_people {
    std::int64_t project_id = 0;
    std::string distinct_id;
    people_operations operations;
    std::int64_t now = 0;
};

// Makes original_id (anonymous) resolve to the user alias_id resolves to, merging their profiles; refused on
// the same id twice, an id already aliased elsewhere, or a cycle.
struct alias_user {
    std::int64_t project_id = 0;
    std::string alias_id;
    std::string original_id;
    std::int64_t now = 0;
};

// Removes the user with this exact user_id; the outcome's count says whether one was there.
struct delete_user {
    std::int64_t project_id = 0;
    std::string user_id;
};

// Erases users (GDPR): for each id, the profile it resolves to (following an alias), every alias of that profile,
// and the ids (the given one, the profile's, its aliases) in the project's users jobs' row errors, which stay
// without them; the outcome's count says how many profiles were removed. An id with no profile erases nothing.
struct erase_users {
    std::int64_t project_id = 0;
    std::vector<std::string> user_ids;
};

// Erases companies: each company's profile and its id in the project's companies jobs' row errors; the outcome's
// count says how many profiles were removed.
struct erase_companies {
    std::int64_t project_id = 0;
    std::vector<std::string> company_ids;
};

// Records a new queued job, its Idempotency-Key bound to the upload's digest. The key is first forgotten on
// the project's jobs submitted before idempotency_not_before; when a job within the window still holds it, no
// job is inserted and the outcome names that earlier job. With last_piece (the spool's seal of an upload spooled
// into the database) the job's upload is completed in the same commit, and the insert refused when pieces of it
// went missing meanwhile.
struct insert_job {
    job_record job;
    std::string upload_sha256; // hex
    std::int64_t idempotency_not_before = 0;
    std::optional<upload_piece> last_piece;
};

// Claims the oldest unfinished job of the fair-next project (round-robin after after_project_id, skipping
// skip_projects) whose lease is free or expired: the lease becomes owner's until lease_until. A project with a
// job another owner holds a live lease on is skipped too: one daemon at a time works a project, at its rate.
// The outcome's job is the claimed job, or nothing when no job can be claimed.
struct claim_job {
    std::string owner;
    std::int64_t after_project_id = -1;
    std::vector<std::int64_t> skip_projects;
    std::int64_t now = 0;
    std::int64_t lease_until = 0;
};

// Records a processed chunk of owner's job: new checkpoint and counts, the chunk's row errors, the lease
// renewed until lease_until, its processing time, and (with started_at) the job marked running. The chunk's upserts
// are separate operations of the same batch, so checkpoint and rows commit together. Refused job_cancelled when a
// client asked to cancel the job (its unit, the chunk's rows, undone with it): the runner then ends it.
struct advance_job {
    std::string job_id;
    std::string owner;
    std::int64_t checkpoint_offset = 0;
    std::int64_t checkpoint_line = 0;
    std::int64_t processed_rows = 0;
    std::int64_t failed_rows = 0;
    std::vector<job_row_error> errors;
    std::optional<std::int64_t> started_at; // set on the job's first chunk: it becomes running
    std::int64_t lease_until = 0;
    std::int64_t processing_ms = 0; // the job's processing time so far, all runs together
};

// Keeps owner's lease on a job that is waiting (on its project's row rate) until lease_until, with its processing
// time so far when given. Refused job_cancelled when a client asked to cancel the job.
struct renew_job_lease {
    std::string job_id;
    std::string owner;
    std::int64_t lease_until = 0;
    std::optional<std::int64_t> processing_ms;
};

// Ends a job (done or failed, with the reason) and frees its lease. With an owner, refused (lease_lost) unless that
// owner still holds the unfinished job: a daemon whose lease another took over must not end the job it runs now.
struct finish_job {
    std::string job_id;
    job_status status = job_status::done;
    std::optional<std::string> error;
    std::int64_t now = 0;
    std::optional<std::string> owner;
    std::optional<std::int64_t> processing_ms; // the job's final processing time; kept as stored when not given
};

// A client's request to cancel a job of its project. The request is kept with the job (the first one's time), for
// the daemon running it to see at its next chunk (advance_job and renew_job_lease are refused job_cancelled). A job
// no daemon is running now (queued, or its lease free or run out) ends at once, failed with error "cancelled",
// through the path finish_job takes. Refused not_found when the project has no such job, job_finished when it
// already ended; the outcome's job is the job as it stands after the request.
struct cancel_job {
    std::int64_t project_id = 0;
    std::string job_id;
    std::int64_t now = 0;
};

// Registers a webhook (webhook.project_id's); refused (webhook_limit) when the project has max_per_project already.
struct create_webhook {
    webhook_record webhook;
    std::int64_t max_per_project = 0;
};

// Removes the project's webhook with its deliveries and their attempts; the outcome's count says whether it was there.
struct delete_webhook {
    std::int64_t project_id = 0;
    std::string webhook_id;
};

// Claims up to limit pending deliveries that are due at now and not leased by anyone (or whose lease expired),
// oldest due first: the lease becomes owner's until lease_until, so no other daemon sends them meanwhile. The
// outcome's deliveries are the claimed ones, each with its webhook's url and secret and its job.
struct claim_deliveries {
    std::string owner;
    std::int64_t now = 0;
    std::int64_t lease_until = 0;
    int limit = 0;
    bool take_back_own = false; // also claim what owner leased before (its last run's, ended by a crash)
};

// Records an attempt at owner's delivery and frees the lease: delivered, failed for good, or pending again until
// next_attempt_at. Refused (lease_lost) when owner no longer holds the delivery (or it is gone with its webhook).
struct record_delivery_attempt {
    std::string delivery_id;
    std::string owner;
    std::int64_t attempt = 0;
    std::optional<std::int64_t> status_code;
    std::optional<std::string> error;
    std::int64_t at = 0;
    delivery_state state = delivery_state::pending;
    std::int64_t next_attempt_at = 0; // when pending
};

// One domain operation of a batch.
using store_operation =
    std::variant<upsert_users, upsert_companies, update_people, alias_user, delete_user, insert_job, claim_job,
                 advance_job, renew_job_lease, finish_job, erase_users, erase_companies, cancel_job, create_webhook,
                 delete_webhook, claim_deliveries, record_delivery_attempt>;

// What one operation of a batch did.
struct operation_outcome {
    std::optional<api_error> refused;     // set when the operation was refused (and undone alone)
    std::vector<upsert_outcome> upserts;  // upsert_users with report_outcomes: one per row, in order
    std::optional<job_record> job;        // claim_job: the job claimed, if any; cancel_job: the job after the request
    std::optional<idempotent_job> earlier_job; // insert_job: the earlier job holding the key, when no job was inserted
    std::int64_t count = 0;                    // delete_user: users removed; erase_*: profiles removed
    std::vector<delivery_task> deliveries;     // claim_deliveries: the deliveries claimed
};

// Whether the store may refuse the operation (an outcome's refused), leaving the rest of its batch applied: people
// updates, aliases, job inserts, a job's advance, renewal, cancel, or an owner's finish.
bool is_refusable(const store_operation& op);
// Whether a batch holds a job's chunk (an advance_job): background work, which gives way to requests.
bool holds_job_chunk(const std::vector<store_operation>& ops);

} // namespace profiled
