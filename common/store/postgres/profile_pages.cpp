#include "common/store/postgres/profile_pages.hpp"

#include <boost/json/parse.hpp>

#include "common/store/page_cursor.hpp"
#include "common/store/postgres/postgres_rows.hpp"

namespace profiled {

namespace json = boost::json;

namespace {

// The id a page starts after: 0 without a cursor, nothing for a cursor this engine did not hand out.
std::optional<std::int64_t> start_after(cursor_kind kind, const std::optional<std::string>& cursor)
{
    if (!cursor)
        return 0;
    return decode_page_cursor(kind, *cursor);
}

} // namespace

pg_keyed_users pg_read_users_after(pg_connection& db, std::int64_t project_id, std::int64_t after,
                                   std::optional<std::int64_t> updated_since, int limit)
{
    // Aliases in byte order (COLLATE "C"), as a single profile's GET lists them.
    static const std::string sql =
        std::string("SELECT ") + pg_user_column_list +
        ", (SELECT coalesce(json_agg(a.alias_id ORDER BY a.alias_id COLLATE \"C\"), '[]')::text FROM aliases a "
        "WHERE a.project_id = $1 AND a.user_id = u.user_id), u.id FROM users u WHERE u.project_id = $1 "
        "AND u.id > $2 AND ($3::bigint IS NULL OR u.updated_at >= $3) ORDER BY u.id LIMIT $4";
    auto r = db.query(sql, project_id, after, updated_since, static_cast<std::int64_t>(limit));
    pg_keyed_users out;
    for (int i = 0; i < r.size(); ++i) {
        user_profile user = pg_read_user(r, i);
        json::value aliases = json::parse(r.text(i, 9));
        for (const auto& a : aliases.as_array())
            user.aliases.emplace_back(a.as_string());
        out.users.push_back(std::move(user));
        out.ids.push_back(r.int64(i, 10));
    }
    return out;
}

pg_keyed_companies pg_read_companies_after(pg_connection& db, std::int64_t project_id, std::int64_t after,
                                           std::optional<std::int64_t> updated_since, int limit)
{
    static const std::string sql =
        "SELECT company_id, properties::text, created_at, updated_at, id FROM companies WHERE project_id = $1 "
        "AND id > $2 AND ($3::bigint IS NULL OR updated_at >= $3) ORDER BY id LIMIT $4";
    auto r = db.query(sql, project_id, after, updated_since, static_cast<std::int64_t>(limit));
    pg_keyed_companies out;
    for (int i = 0; i < r.size(); ++i) {
        out.companies.push_back({r.text(i, 0), pg_parse_object(r.text(i, 1)), r.int64(i, 2), r.int64(i, 3)});
        out.ids.push_back(r.int64(i, 4));
    }
    return out;
}

std::optional<user_page> pg_read_user_page(pg_connection& db, std::int64_t project_id,
                                           const std::optional<std::string>& cursor,
                                           std::optional<std::int64_t> updated_since, int limit)
{
    auto after = start_after(cursor_kind::users, cursor);
    if (!after)
        return std::nullopt;
    // One row more than the page says whether another page follows.
    auto rows = pg_read_users_after(db, project_id, *after, updated_since, limit + 1);
    user_page page;
    if (static_cast<int>(rows.users.size()) > limit) {
        rows.users.pop_back();
        page.next_cursor = encode_page_cursor(cursor_kind::users, rows.ids[static_cast<std::size_t>(limit) - 1]);
    }
    page.users = std::move(rows.users);
    return page;
}

std::optional<company_page> pg_read_company_page(pg_connection& db, std::int64_t project_id,
                                                 const std::optional<std::string>& cursor,
                                                 std::optional<std::int64_t> updated_since, int limit)
{
    auto after = start_after(cursor_kind::companies, cursor);
    if (!after)
        return std::nullopt;
    auto rows = pg_read_companies_after(db, project_id, *after, updated_since, limit + 1);
    company_page page;
    if (static_cast<int>(rows.companies.size()) > limit) {
        rows.companies.pop_back();
        page.next_cursor = encode_page_cursor(cursor_kind::companies, rows.ids[static_cast<std::size_t>(limit) - 1]);
    }
    page.companies = std::move(rows.companies);
    return page;
}

} // namespace profiled
