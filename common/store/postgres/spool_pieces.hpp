// The PostgreSQL engine's statements on spooled uploads (spool_uploads, spool_pieces); private to the engine, run
// by the spool's own connections and, for an upload's last piece and its removal, inside the writer's transaction.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/api_error.hpp"
#include "common/store/postgres/postgres.hpp"
#include "common/store/upload_spool.hpp"

namespace profiled {

// Records the upload as written by this connection's backend, unless it is recorded already.
void pg_record_upload(pg_connection& db, const std::string& upload_id, std::int64_t now);
// Stores one piece of a recorded upload.
void pg_store_piece(pg_connection& db, const upload_piece& piece);
// Stores the upload's last piece (recording the upload when it is its only one); refused when pieces before it are
// missing (removed as abandoned while the upload was received), so that no job is recorded with half its upload.
std::optional<api_error> pg_seal_upload(pg_connection& db, const upload_piece& last, std::int64_t now);
// Removes the upload and its pieces.
void pg_remove_upload(pg_connection& db, const std::string& upload_id);
// Removes the upload and its pieces unless an unfinished job holds it.
void pg_discard_upload(pg_connection& db, const std::string& upload_id);
// Removes every upload no unfinished job holds whose job ended or never was recorded while its writer's backend is
// gone (its daemon died mid-upload); how many.
std::int64_t pg_sweep_uploads(pg_connection& db);
// Those of the jobs, still unfinished, whose upload has no piece.
std::vector<std::string> pg_uploads_missing(pg_connection& db, const std::vector<std::string>& job_ids);

// Where a piece starts: its number and the upload offset of its first byte.
struct piece_start {
    std::int64_t number = 0;
    std::int64_t first_byte = 0;
};
// The piece holding the upload's byte at offset (the last piece when offset is the upload's end); nothing when the
// upload has no pieces.
std::optional<piece_start> pg_find_piece(pg_connection& db, const std::string& upload_id, std::int64_t offset);
// The bytes of the upload's piece number; nothing when there is no such piece.
std::optional<std::string> pg_read_piece(pg_connection& db, const std::string& upload_id, std::int64_t number);

} // namespace profiled
