#include "common/store/sqlite/stored_rows.hpp"

#include <boost/json/parse.hpp>

#include "common/store/store_error.hpp"

namespace profiled {

namespace json = boost::json;

namespace {

// The key kind stored in a row.
key_kind parse_kind(const std::string& s) { return s == "public" ? key_kind::public_key : key_kind::secret; }

// A stored job type or status back as its enum; the table's CHECK constraints allow no other text.
template <typename T>
T parse_column(std::optional<T> parsed, const std::string& text)
{
    if (!parsed)
        throw store_error(store_failure::other, "jobs row with unknown type or status: " + text);
    return *parsed;
}

} // namespace

json::object parse_object(const std::string& text)
{
    boost::system::error_code ec;
    json::value v = json::parse(text, ec);
    if (ec || !v.is_object())
        return {};
    return std::move(v.as_object());
}

api_key_record read_key(const sqlite_query& q)
{
    return {q.int64(0), q.int64(1), q.text(2), parse_kind(q.text(3)), q.text(4), q.text(5), q.int64(6),
            q.optional_int64(7)};
}

job_record read_job(const sqlite_query& q)
{
    job_record j;
    j.job_id = q.text(1);
    j.project_id = q.int64(2);
    std::string type = q.text(3);
    j.type = parse_column(parse_job_type(type), type);
    std::string status = q.text(4);
    j.status = parse_column(parse_job_status(status), status);
    j.filename = q.text(5);
    j.file_size = q.int64(6);
    j.total_rows = q.int64(7);
    j.processed_rows = q.int64(8);
    j.failed_rows = q.int64(9);
    j.checkpoint_offset = q.int64(10);
    j.checkpoint_line = q.int64(11);
    j.error = q.optional_text(12);
    j.idempotency_key = q.optional_text(13);
    j.submitted_at = q.int64(14);
    j.started_at = q.optional_int64(15);
    j.finished_at = q.optional_int64(16);
    j.processing_ms = q.int64(17);
    j.cancel_requested_at = q.optional_int64(18);
    return j;
}

user_profile read_user(const sqlite_query& q)
{
    user_profile u;
    u.user_id = q.text(0);
    u.id = q.text(1);
    u.email = q.optional_text(2);
    u.phone = q.optional_text(3);
    u.company_id = q.optional_text(4);
    u.properties = parse_object(q.text(5));
    u.origin = parse_object(q.text(6));
    u.created_at = q.int64(7);
    u.updated_at = q.int64(8);
    return u;
}

std::string resolve_user_id(sqlite_connection& db, std::int64_t project_id, const std::string& user_id)
{
    auto q = db.query("SELECT user_id FROM aliases WHERE project_id = ? AND alias_id = ?", project_id, user_id);
    return q.step() ? q.text(0) : user_id;
}

std::optional<user_profile> find_user_with_aliases(sqlite_connection& db, std::int64_t project_id,
                                                   const std::string& user_id)
{
    std::string resolved = resolve_user_id(db, project_id, user_id);
    std::optional<user_profile> user;
    {
        auto q = db.query(std::string(user_columns) + "WHERE project_id = ? AND user_id = ?", project_id, resolved);
        if (!q.step())
            return std::nullopt;
        user = read_user(q);
    }
    auto a = db.query("SELECT alias_id FROM aliases WHERE project_id = ? AND user_id = ? ORDER BY alias_id",
                      project_id, resolved);
    while (a.step())
        user->aliases.push_back(a.text(0));
    return user;
}

std::optional<idempotent_job> find_job_by_key(sqlite_connection& db, std::int64_t project_id, const std::string& key,
                                              std::int64_t not_before)
{
    auto q = db.query(std::string("SELECT ") + job_column_list +
                          ", idempotency_sha256 FROM jobs WHERE project_id = ? AND idempotency_key = ? "
                          "AND submitted_at >= ?",
                      project_id, key, not_before);
    if (!q.step())
        return std::nullopt;
    return idempotent_job{read_job(q), q.optional_text(19).value_or("")};
}

} // namespace profiled
