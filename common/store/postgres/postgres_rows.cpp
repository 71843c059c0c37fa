#include "common/store/postgres/postgres_rows.hpp"

#include <boost/json/parse.hpp>

namespace profiled {

namespace json = boost::json;

namespace {

// A stored job type or status back as its enum; the table's CHECK constraints allow no other text.
template <typename T>
T parse_column(std::optional<T> parsed, const std::string& text)
{
    if (!parsed)
        throw store_error(store_failure::other, "jobs row with unknown type or status: " + text);
    return *parsed;
}

} // namespace

api_key_record pg_read_key(const pg_rows& r, int i)
{
    return {r.int64(i, 0), r.int64(i, 1),
            r.text(i, 2),  r.text(i, 3) == "public" ? key_kind::public_key : key_kind::secret,
            r.text(i, 4),  r.text(i, 5),
            r.int64(i, 6), r.optional_int64(i, 7)};
}

job_record pg_read_job(const pg_rows& r, int i)
{
    job_record j;
    j.job_id = r.text(i, 1);
    j.project_id = r.int64(i, 2);
    std::string type = r.text(i, 3);
    j.type = parse_column(parse_job_type(type), type);
    std::string status = r.text(i, 4);
    j.status = parse_column(parse_job_status(status), status);
    j.filename = r.text(i, 5);
    j.file_size = r.int64(i, 6);
    j.total_rows = r.int64(i, 7);
    j.processed_rows = r.int64(i, 8);
    j.failed_rows = r.int64(i, 9);
    j.checkpoint_offset = r.int64(i, 10);
    j.checkpoint_line = r.int64(i, 11);
    j.error = r.optional_text(i, 12);
    j.idempotency_key = r.optional_text(i, 13);
    j.submitted_at = r.int64(i, 14);
    j.started_at = r.optional_int64(i, 15);
    j.finished_at = r.optional_int64(i, 16);
    j.processing_ms = r.int64(i, 17);
    j.cancel_requested_at = r.optional_int64(i, 18);
    return j;
}

user_profile pg_read_user(const pg_rows& r, int i)
{
    user_profile u;
    u.user_id = r.text(i, 0);
    u.id = r.text(i, 1);
    u.email = r.optional_text(i, 2);
    u.phone = r.optional_text(i, 3);
    u.company_id = r.optional_text(i, 4);
    u.properties = pg_parse_object(r.text(i, 5));
    u.origin = pg_parse_object(r.text(i, 6));
    u.created_at = r.int64(i, 7);
    u.updated_at = r.int64(i, 8);
    return u;
}

std::string pg_resolve_user_id(pg_connection& db, std::int64_t project_id, const std::string& user_id)
{
    auto r = db.query("SELECT user_id FROM aliases WHERE project_id = $1 AND alias_id = $2", project_id, user_id);
    return r.empty() ? user_id : r.text(0, 0);
}

std::optional<user_profile> pg_find_user_with_aliases(pg_connection& db, std::int64_t project_id,
                                                      const std::string& user_id)
{
    // Aliases in byte order (COLLATE "C"), as SQLite orders them, whatever the database's collation.
    static const std::string sql =
        std::string("SELECT ") + pg_user_column_list +
        ", (SELECT coalesce(json_agg(a.alias_id ORDER BY a.alias_id COLLATE \"C\"), '[]')::text FROM aliases a "
        "WHERE a.project_id = $1 AND a.user_id = u.user_id) FROM users u WHERE u.project_id = $1 AND u.user_id = "
        "coalesce((SELECT user_id FROM aliases WHERE project_id = $1 AND alias_id = $2), $2)";
    auto r = db.query(sql, project_id, user_id);
    if (r.empty())
        return std::nullopt;
    user_profile user = pg_read_user(r, 0);
    json::value aliases = json::parse(r.text(0, 9));
    for (const auto& a : aliases.as_array())
        user.aliases.emplace_back(a.as_string());
    return user;
}

std::optional<idempotent_job> pg_find_job_by_key(pg_connection& db, std::int64_t project_id, const std::string& key,
                                                 std::int64_t not_before)
{
    static const std::string sql = std::string("SELECT ") + pg_job_column_list +
                                   ", idempotency_sha256 FROM jobs WHERE project_id = $1 AND idempotency_key = $2 "
                                   "AND submitted_at >= $3";
    auto r = db.query(sql, project_id, key, not_before);
    if (r.empty())
        return std::nullopt;
    return idempotent_job{pg_read_job(r, 0), r.optional_text(0, pg_job_column_count).value_or("")};
}

boost::json::object pg_parse_object(const std::string& text)
{
    boost::system::error_code ec;
    json::value v = json::parse(text, ec);
    if (ec || !v.is_object())
        return {};
    return std::move(v.as_object());
}

} // namespace profiled
