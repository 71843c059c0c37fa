#include "common/store/postgres/spool_pieces.hpp"

#include <fmt/format.h>

namespace profiled {

void pg_record_upload(pg_connection& db, const std::string& upload_id, std::int64_t now)
{
    db.query("INSERT INTO spool_uploads(upload_id, writer_pid, writer_started, created_at) "
             "SELECT $1, pid, backend_start, $2 FROM pg_stat_activity WHERE pid = pg_backend_pid() "
             "ON CONFLICT (upload_id) DO NOTHING",
             upload_id, now);
}

void pg_store_piece(pg_connection& db, const upload_piece& piece)
{
    db.query_with_bytes("INSERT INTO spool_pieces(upload_id, piece, first_byte, data) VALUES ($1, $2, $3, $4)",
                        {piece.upload_id, std::to_string(piece.number), std::to_string(piece.first_byte)}, piece.bytes);
}

std::optional<api_error> pg_seal_upload(pg_connection& db, const upload_piece& last, std::int64_t now)
{
    pg_record_upload(db, last.upload_id, now);
    // Locked, so that a sweep by another daemon waits for this commit.
    db.query("SELECT 1 FROM spool_uploads WHERE upload_id = $1 FOR UPDATE", last.upload_id);
    auto before = db.query("SELECT count(*), coalesce(sum(octet_length(data)), 0) FROM spool_pieces "
                           "WHERE upload_id = $1",
                           last.upload_id);
    if (before.int64(0, 0) != last.number || before.int64(0, 1) != last.first_byte)
        return api_error{errc::unavailable,
                         "upload_interrupted",
                         fmt::format("the upload was lost while it was received ({} of {} pieces kept); nothing "
                                     "was accepted, send it again",
                                     before.int64(0, 0), last.number),
                         {}};
    pg_store_piece(db, last);
    return std::nullopt;
}

void pg_remove_upload(pg_connection& db, const std::string& upload_id)
{
    db.query("DELETE FROM spool_uploads WHERE upload_id = $1", upload_id);
}

void pg_discard_upload(pg_connection& db, const std::string& upload_id)
{
    db.query("DELETE FROM spool_uploads WHERE upload_id = $1 AND NOT EXISTS (SELECT 1 FROM jobs "
             "WHERE job_id = $1 AND status IN ('queued', 'running'))",
             upload_id);
}

std::int64_t pg_sweep_uploads(pg_connection& db)
{
    auto removed = db.query("DELETE FROM spool_uploads u WHERE NOT EXISTS (SELECT 1 FROM jobs j "
                            "WHERE j.job_id = u.upload_id AND j.status IN ('queued', 'running')) "
                            "AND (EXISTS (SELECT 1 FROM jobs j WHERE j.job_id = u.upload_id) "
                            "OR NOT EXISTS (SELECT 1 FROM pg_stat_activity a "
                            "WHERE a.pid = u.writer_pid "
                            // A backend of another role shows no start time: alive, for all this one knows.
                            "AND (a.backend_start IS NULL OR a.backend_start = u.writer_started)))");
    return removed.affected();
}

std::vector<std::string> pg_uploads_missing(pg_connection& db, const std::vector<std::string>& job_ids)
{
    std::vector<pg_param> ids(job_ids.begin(), job_ids.end());
    // One statement, one snapshot: a job another daemon finishes meanwhile is finished here too, not lost.
    auto r = db.query("SELECT job_id FROM jobs j WHERE job_id = ANY ($1::text[]) "
                      "AND status IN ('queued', 'running') AND NOT EXISTS "
                      "(SELECT 1 FROM spool_pieces p WHERE p.upload_id = j.job_id)",
                      array_literal(ids));
    std::vector<std::string> missing;
    for (int i = 0; i < r.size(); ++i)
        missing.push_back(r.text(i, 0));
    return missing;
}

std::optional<piece_start> pg_find_piece(pg_connection& db, const std::string& upload_id, std::int64_t offset)
{
    auto r = db.query("SELECT piece, first_byte FROM spool_pieces WHERE upload_id = $1 AND first_byte <= $2 "
                      "ORDER BY piece DESC LIMIT 1",
                      upload_id, offset);
    if (r.empty())
        return std::nullopt;
    return piece_start{r.int64(0, 0), r.int64(0, 1)};
}

std::optional<std::string> pg_read_piece(pg_connection& db, const std::string& upload_id, std::int64_t number)
{
    auto r = db.query_binary("SELECT data FROM spool_pieces WHERE upload_id = $1 AND piece = $2",
                             {upload_id, std::to_string(number)});
    if (r.empty())
        return std::nullopt;
    return r.text(0, 0);
}

} // namespace profiled
