// How the PostgreSQL engine's rows read back as domain objects; shared by its reader and its writer.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/profiles/profile.hpp"
#include "common/store/postgres/postgres.hpp"
#include "common/store/store_operations.hpp"

namespace profiled {

// The columns pg_read_key reads: an api_keys row with its project's name.
inline constexpr const char* pg_key_columns =
    "SELECT k.id, k.project_id, p.name, k.kind, k.prefix, k.key_hash, k.created_at, k.revoked_at "
    "FROM api_keys k JOIN projects p ON p.id = k.project_id ";

// The columns pg_read_job reads, in its order (without SELECT, for RETURNING clauses too).
inline constexpr const char* pg_job_column_list =
    "id, job_id, project_id, type, status, filename, file_size, total_rows, processed_rows, failed_rows, "
    "checkpoint_offset, checkpoint_line, error, idempotency_key, submitted_at, started_at, finished_at, processing_ms, "
    "cancel_requested_at";
// How many columns pg_job_column_list names: the first column after them in a row that selects more.
inline constexpr int pg_job_column_count = 19;

// The columns pg_read_user reads, from users u.
inline constexpr const char* pg_user_column_list =
    "u.user_id, u.public_id, u.email, u.phone, u.company_id, u.properties::text, u.origin::text, u.created_at, "
    "u.updated_at";

// A stored jsonb object's text back as an object ({} if it is not one).
boost::json::object pg_parse_object(const std::string& text);
// An api_keys row selected with pg_key_columns.
api_key_record pg_read_key(const pg_rows& rows, int row);
// A jobs row selected with pg_job_column_list; column 0, the internal id, stays in the engine.
job_record pg_read_job(const pg_rows& rows, int row);
// A users row selected with pg_user_column_list (aliases are filled in separately).
user_profile pg_read_user(const pg_rows& rows, int row);

// The id user_id resolves to through the aliases table (itself unless it is an alias).
std::string pg_resolve_user_id(pg_connection& db, std::int64_t project_id, const std::string& user_id);
// The user (after alias resolution) with its aliases, or nothing; one statement, so one snapshot.
std::optional<user_profile> pg_find_user_with_aliases(pg_connection& db, std::int64_t project_id,
                                                      const std::string& user_id);
// The project's job holding this Idempotency-Key, submitted at or after not_before, with the upload's digest.
std::optional<idempotent_job> pg_find_job_by_key(pg_connection& db, std::int64_t project_id, const std::string& key,
                                                 std::int64_t not_before);

} // namespace profiled
