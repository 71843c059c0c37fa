// The storage interface: handlers and the job runner see only this, never SQLite.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/profiles/profile.hpp"

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

// The job that holds an Idempotency-Key, with what the key was bound to when the job was submitted.
struct idempotent_job {
    job_record job;            // its type names the bulk route the key was used on
    std::string upload_sha256; // SHA-256 (hex) of the upload; empty for jobs older than the binding
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
    // Every job of every project, for `profiled jobs list`.
    virtual std::vector<job_record> list_all_jobs(int limit) = 0;
    // How many jobs are in the given status, all projects together.
    virtual std::int64_t count_jobs(job_status status) = 0;
    // A number that changes whenever an API key is created, revoked or removed, by this process or another;
    // cheap enough to ask on every request.
    virtual std::uint64_t key_version() = 0;
};

// Writes; used only inside a transaction opened with begin(), by one thread.
class store_writer {
public:
    virtual ~store_writer() = default;

    virtual void begin() = 0;
    virtual void commit() = 0;
    virtual void rollback() = 0;
    // A nested step inside the open transaction that can be undone on its own.
    virtual void savepoint() = 0;
    virtual void release_savepoint() = 0;
    virtual void rollback_savepoint() = 0;

    // The project's id, creating it when new.
    virtual std::int64_t ensure_project(const std::string& name, std::int64_t now) = 0;
    virtual void insert_key(const api_key_record& key) = 0;
    // Revokes every live key whose prefix starts with the given text; returns how many.
    virtual int revoke_keys(const std::string& prefix, std::int64_t now) = 0;

    // Merges each change into the user it names (following an alias), creating the users that are new: one
    // statement per row, the merge done inside the database. With outcomes, it also says for each row (in the
    // rows' order) whether the user was created and its internal id, which costs a little more.
    virtual void upsert_users(std::int64_t project_id, const std::vector<user_upsert>& rows, std::int64_t now,
                              std::vector<upsert_outcome>* outcomes = nullptr) = 0;
    // Merges each change into its company, creating the companies that are new.
    virtual void upsert_companies(std::int64_t project_id, const std::vector<company_upsert>& rows,
                                  std::int64_t now) = 0;

    // The id that user_id resolves to (itself unless it is an alias).
    virtual std::string resolve_user_id(std::int64_t project_id, const std::string& user_id) = 0;
    virtual std::optional<user_profile> load_user(std::int64_t project_id, const std::string& user_id) = 0;
    // Inserts or replaces the profile (matched on project and user_id).
    virtual void save_user(std::int64_t project_id, const user_profile& profile, bool is_new) = 0;
    virtual void delete_user(std::int64_t project_id, const std::string& user_id) = 0;
    virtual std::optional<company_profile> load_company(std::int64_t project_id, const std::string& company_id) = 0;
    virtual void save_company(std::int64_t project_id, const company_profile& company, bool is_new) = 0;
    // Makes alias_id (an id clients used) resolve to user_id.
    virtual void insert_alias(std::int64_t project_id, const std::string& alias_id, const std::string& user_id,
                              std::int64_t now) = 0;
    // Points every alias of from_user_id at to_user_id instead.
    virtual void move_aliases(std::int64_t project_id, const std::string& from_user_id,
                              const std::string& to_user_id) = 0;

    // Inserts a new job, its Idempotency-Key (if any) bound to upload_sha256, and says whether it did; it does not
    // when another job of the project holds that key. A key is unique per project, so the insert has the final word.
    virtual bool insert_job(const job_record& job, const std::string& upload_sha256) = 0;
    // The project's job holding this Idempotency-Key if it was submitted at or after not_before, with its binding.
    virtual std::optional<idempotent_job> find_job_by_idempotency_key(std::int64_t project_id, const std::string& key,
                                                                      std::int64_t not_before) = 0;
    // Forgets the key on the project's jobs submitted before not_before, so that it can be used again.
    virtual void clear_idempotency_key(std::int64_t project_id, const std::string& key, std::int64_t not_before) = 0;
    virtual std::optional<job_record> load_job(const std::string& job_id) = 0;
    // Jobs that are queued or running, oldest first.
    virtual std::vector<job_record> unfinished_jobs() = 0;
    virtual void mark_job_running(const std::string& job_id, std::int64_t now) = 0;
    // Records a processed chunk: new checkpoint and counts.
    virtual void advance_job(const std::string& job_id, std::int64_t checkpoint_offset, std::int64_t checkpoint_line,
                             std::int64_t processed_rows, std::int64_t failed_rows) = 0;
    virtual void insert_job_error(const std::string& job_id, const job_row_error& error) = 0;
    virtual void finish_job(const std::string& job_id, job_status status, const std::optional<std::string>& error,
                            std::int64_t now) = 0;
};

// A profiled database: hands out readers and the single writer.
class store {
public:
    virtual ~store() = default;
    virtual std::unique_ptr<store_reader> open_reader() = 0;
    virtual std::unique_ptr<store_writer> open_writer() = 0;
};

} // namespace profiled
