// How the SQLite engine's rows read back as domain objects; shared by its reader and its writer.
#pragma once

#include <optional>
#include <string>

#include <boost/json/object.hpp>

#include "common/profiles/profile.hpp"
#include "common/store/sqlite/sqlite.hpp"
#include "common/store/store_operations.hpp"

namespace profiled {

// The columns read_key reads: an api_keys row with its project's name.
inline constexpr const char* key_columns =
    "SELECT k.id, k.project_id, p.name, k.kind, k.prefix, k.key_hash, k.created_at, k.revoked_at "
    "FROM api_keys k JOIN projects p ON p.id = k.project_id ";

// The columns read_job reads, in its order (without SELECT, for RETURNING clauses too).
inline constexpr const char* job_column_list =
    "id, job_id, project_id, type, status, filename, file_size, total_rows, processed_rows, failed_rows, "
    "checkpoint_offset, checkpoint_line, error, idempotency_key, submitted_at, started_at, finished_at, processing_ms, "
    "cancel_requested_at";

// SELECT job_column_list FROM jobs, for a WHERE clause to follow.
inline const std::string job_columns = std::string("SELECT ") + job_column_list + " FROM jobs ";

// The columns read_user reads.
inline constexpr const char* user_columns =
    "SELECT user_id, public_id, email, phone, company_id, properties, origin, created_at, updated_at, id FROM users ";

// A stored JSON object column back as an object ({} if the text is not one).
boost::json::object parse_object(const std::string& text);

// An api_keys row selected with key_columns.
api_key_record read_key(const sqlite_query& q);

// A jobs row selected with job_columns; column 0, the internal id, stays in the engine.
job_record read_job(const sqlite_query& q);

// A users row selected with user_columns (aliases are filled in separately).
user_profile read_user(const sqlite_query& q);

// The id user_id resolves to through the aliases table (itself unless it is an alias).
std::string resolve_user_id(sqlite_connection& db, std::int64_t project_id, const std::string& user_id);

// The user (after alias resolution) with its aliases, or nothing.
std::optional<user_profile> find_user_with_aliases(sqlite_connection& db, std::int64_t project_id,
                                                   const std::string& user_id);

// The project's job holding this Idempotency-Key, submitted at or after not_before, with the upload's digest.
std::optional<idempotent_job> find_job_by_key(sqlite_connection& db, std::int64_t project_id, const std::string& key,
                                              std::int64_t not_before);

} // namespace profiled
