// The storage interface: handlers and the job runner see only this, never SQLite.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/profiles/profile.hpp"
#include "common/store/store_operations.hpp"
#include "common/store/upload_spool.hpp"
#include "common/store/webhook_records.hpp"

namespace profiled {

// A page of jobs, newest first.
struct job_page {
    std::vector<job_record> jobs;
    std::optional<std::string> next_cursor; // opaque: the engine's own, handed back for the next page
};

// A page of row errors, by line.
struct job_error_page {
    std::vector<job_row_error> errors;
    std::optional<std::string> next_cursor; // opaque: the engine's own, handed back for the next page
};

// A page of a project's users, by internal id (the order they were first stored in).
struct user_page {
    std::vector<user_profile> users;
    std::optional<std::string> next_cursor; // opaque: the engine's own, handed back for the next page
};

// A page of a project's companies, by internal id.
struct company_page {
    std::vector<company_profile> companies;
    std::optional<std::string> next_cursor; // opaque: the engine's own, handed back for the next page
};

// The bulk job backlog as monitoring sees it, all projects together.
struct job_backlog {
    std::int64_t queued_rows = 0;                 // rows of queued jobs not processed yet
    std::int64_t running_rows = 0;                // rows of running jobs not processed yet
    std::optional<std::int64_t> oldest_queued_at; // submitted_at of the oldest queued job; none when none is
};

// Read-only queries; each reader belongs to one thread.
class store_reader {
public:
    virtual ~store_reader() = default;

    virtual std::optional<api_key_record> find_key(const std::string& key_hash) = 0;
    virtual std::vector<api_key_record> list_keys() = 0;
    // The user's profile, following an alias if user_id is one.
    virtual std::optional<user_profile> find_user(std::int64_t project_id, const std::string& user_id) = 0;
    virtual std::optional<company_profile> find_company(std::int64_t project_id, const std::string& company_id) = 0;
    virtual std::optional<job_record> find_job(std::int64_t project_id, const std::string& job_id) = 0;
    // The project's job submitted with this Idempotency-Key at or after not_before.
    virtual std::optional<job_record> find_job_by_idempotency_key(std::int64_t project_id, const std::string& key,
                                                                  std::int64_t not_before) = 0;
    // The project's jobs newest first, optionally only those in one status, from the page cursor (a next_cursor
    // of an earlier page) names; nothing when cursor is not one this store hands out.
    virtual std::optional<job_page> list_jobs(std::int64_t project_id, std::optional<job_status> status,
                                              const std::optional<std::string>& cursor, int limit) = 0;
    // The job's row errors by line, from the page cursor (a next_cursor of an earlier page) names; nothing when
    // cursor is not one this store hands out.
    virtual std::optional<job_error_page> list_job_errors(const std::string& job_id,
                                                          const std::optional<std::string>& cursor, int limit) = 0;
    // The project's users (each with its aliases) by internal id, optionally only those updated at or after
    // updated_since, from the page cursor (a next_cursor of an earlier page) names; nothing when cursor is not one
    // this store hands out. Ordered by an id no update changes, so paging skips and repeats no user that exists
    // throughout, whatever is written meanwhile.
    virtual std::optional<user_page> list_users(std::int64_t project_id, const std::optional<std::string>& cursor,
                                                std::optional<std::int64_t> updated_since, int limit) = 0;
    // The project's companies in the same way.
    virtual std::optional<company_page> list_companies(std::int64_t project_id,
                                                       const std::optional<std::string>& cursor,
                                                       std::optional<std::int64_t> updated_since, int limit) = 0;
    // Jobs that are queued or running, all projects, oldest first (start-up recovery).
    virtual std::vector<job_record> unfinished_jobs() = 0;
    // Every job of every project, for `profiled jobs list`.
    virtual std::vector<job_record> list_all_jobs(int limit) = 0;
    // How many jobs are in the given status, all projects together.
    virtual std::int64_t count_jobs(job_status status) = 0;
    // The project's webhooks, oldest first.
    virtual std::vector<webhook_record> list_webhooks(std::int64_t project_id) = 0;
    // The project's webhook with this id.
    virtual std::optional<webhook_record> find_webhook(std::int64_t project_id, const std::string& webhook_id) = 0;
    // The delivery attempts of the project's webhook, newest first, from the page cursor (a next_cursor of an
    // earlier page) names; nothing when cursor is not one this store hands out.
    virtual std::optional<delivery_attempt_page> list_delivery_attempts(std::int64_t project_id,
                                                                        const std::string& webhook_id,
                                                                        const std::optional<std::string>& cursor,
                                                                        int limit) = 0;
    // Webhook deliveries still pending (waiting to be sent or retried), all projects together, and when the next
    // one nobody holds (as of now) is due.
    virtual delivery_backlog webhook_backlog(std::int64_t now) = 0;
    // The rows queued and running jobs still hold, and the oldest queued job's submission (for /metrics).
    virtual job_backlog read_job_backlog() = 0;
    // Bytes the database takes on disk (for /metrics); nothing when the engine cannot tell. May take a while on a
    // large database: ask it seldom.
    virtual std::optional<std::int64_t> database_bytes() = 0;
    // A number that changes whenever an API key is created, revoked or removed, by this process or another;
    // cheap enough to ask on every request.
    virtual std::uint64_t key_version() = 0;
    // For an engine whose key_version() is a round trip to a server, too slow to ask on every request: waits up
    // to timeout for a key change announced by any process (returning as soon as one is), then gives
    // key_version(); the first call only starts listening. Nothing when key_version() is a local read, cheap
    // enough for every request (the default).
    virtual std::optional<std::uint64_t> wait_key_version(std::chrono::milliseconds timeout)
    {
        (void)timeout;
        return std::nullopt;
    }
};

// One project's users or companies as they were at one moment, for an export: read in internal id order a page at
// a time, on a connection of the snapshot's own that holds one read transaction (SQLite) or one REPEATABLE READ
// snapshot (PostgreSQL) until it is destroyed. Writers go on meanwhile and none of their changes show. Used by one
// thread at a time.
class profile_snapshot {
public:
    // Ends the snapshot and closes its connection.
    virtual ~profile_snapshot() = default;
    // The next up to limit users (each with its aliases) after those already read, only those updated at or after
    // the snapshot's updated_since; empty once all are read. Throws store_error when the engine fails.
    virtual std::vector<user_profile> next_users(int limit) = 0;
    // The next up to limit companies in the same way.
    virtual std::vector<company_profile> next_companies(int limit) = 0;
};

// When a writer's commits become durable.
enum class commit_durability {
    at_commit, // apply() and the administration calls return once what they did is durable
    deferred,  // apply() returns once the batch is committed (visible to readers, not yet durable); make_durable()
               // then makes it durable, so the next batch can run while the disk syncs the last
};

// The single writer, used by one thread (make_durable excepted).
class store_writer {
public:
    virtual ~store_writer() = default;

    // Runs the batch in one transaction and says what each operation did, in the batch's order. The batch is made
    // of units, each all or nothing (unit_ends: one past each unit's last operation, ascending, the last one
    // ops.size(); empty: every operation a unit of its own): when an operation is refused, the rest of its unit
    // is undone with it and refused alike, and the other units are not touched. A writer makes each submission a
    // unit, so a job chunk's rows and its checkpoint commit together or not at all. Throws store_error when the
    // engine fails, and then nothing of the batch is applied.
    virtual std::vector<operation_outcome> apply(const std::vector<store_operation>& ops,
                                                 const std::vector<std::size_t>& unit_ends = {}) = 0;
    // Makes durable every batch apply() returned before this call began; nothing to do for a writer opened
    // at_commit. Safe to call from a second thread while apply() runs on the first. Throws store_error when the
    // engine cannot make them durable.
    virtual void make_durable() {}
    // Upkeep an engine can do beside the thread that commits (SQLite: copying the WAL back into the database
    // file), asked after each make_durable on the same second thread; nothing to do for most engines.
    virtual void maintain() {}

    // Project and key administration for the CLI, each in a transaction of its own.
    // The project's id, creating it when new.
    virtual std::int64_t ensure_project(const std::string& name, std::int64_t now) = 0;
    // Stores a key of a project (key.project_id) under its hash.
    virtual void insert_key(const api_key_record& key) = 0;
    // Revokes every live key whose prefix starts with the given text; returns how many.
    virtual int revoke_keys(const std::string& prefix, std::int64_t now) = 0;
};

// A profiled database: hands out readers and the single writer.
class store {
public:
    virtual ~store() = default;
    virtual std::unique_ptr<store_reader> open_reader() = 0;
    // The writer. An engine whose database serves one daemon at a time may free the job leases a dead process
    // left, here. An engine that cannot defer durability opens an at_commit writer whatever is asked.
    virtual std::unique_ptr<store_writer> open_writer(commit_durability durability = commit_durability::at_commit) = 0;
    // A snapshot of the project's profiles (those updated at or after updated_since when given) for an export,
    // begun before this returns. Throws store_error when the engine cannot be reached.
    virtual std::unique_ptr<profile_snapshot> open_snapshot(std::int64_t project_id,
                                                            std::optional<std::int64_t> updated_since) = 0;
    // The spool of bulk uploads: files in spool_dir (an existing directory of this daemon's), unless the engine
    // keeps uploads in its database for every daemon to read.
    virtual std::unique_ptr<upload_spool> open_spool(const std::string& spool_dir);
};

} // namespace profiled
