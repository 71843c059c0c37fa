#include "common/store/sqlite/profile_pages.hpp"

#include "common/store/page_cursor.hpp"
#include "common/store/sqlite/stored_rows.hpp"

namespace profiled {

namespace {

// The id a page starts after: 0 without a cursor, nothing for a cursor this engine did not hand out.
std::optional<std::int64_t> start_after(cursor_kind kind, const std::optional<std::string>& cursor)
{
    if (!cursor)
        return 0;
    return decode_page_cursor(kind, *cursor);
}

} // namespace

// The "+" before project_id keeps SQLite from choosing the (project_id, user_id) index and sorting all of a
// project's rows for each page: the rowid order is walked from the cursor on instead, LIMIT rows at a time.
keyed_users read_users_after(sqlite_connection& db, std::int64_t project_id, std::int64_t after,
                             std::optional<std::int64_t> updated_since, int limit)
{
    keyed_users out;
    {
        auto q = db.query(std::string(user_columns) +
                              "WHERE id > ?1 AND +project_id = ?2 AND (?3 IS NULL OR updated_at >= ?3) "
                              "ORDER BY id LIMIT ?4",
                          after, project_id, updated_since, static_cast<std::int64_t>(limit));
        while (q.step()) {
            out.ids.push_back(q.int64(9));
            out.users.push_back(read_user(q));
        }
    }
    for (auto& user : out.users) {
        auto a = db.query("SELECT alias_id FROM aliases WHERE project_id = ? AND user_id = ? ORDER BY alias_id",
                          project_id, user.user_id);
        while (a.step())
            user.aliases.push_back(a.text(0));
    }
    return out;
}

keyed_companies read_companies_after(sqlite_connection& db, std::int64_t project_id, std::int64_t after,
                                     std::optional<std::int64_t> updated_since, int limit)
{
    keyed_companies out;
    auto q = db.query("SELECT company_id, properties, created_at, updated_at, id FROM companies "
                      "WHERE id > ?1 AND +project_id = ?2 AND (?3 IS NULL OR updated_at >= ?3) "
                      "ORDER BY id LIMIT ?4",
                      after, project_id, updated_since, static_cast<std::int64_t>(limit));
    while (q.step()) {
        out.ids.push_back(q.int64(4));
        out.companies.push_back({q.text(0), parse_object(q.text(1)), q.int64(2), q.int64(3)});
    }
    return out;
}

std::optional<user_page> read_user_page(sqlite_connection& db, std::int64_t project_id,
                                        const std::optional<std::string>& cursor,
                                        std::optional<std::int64_t> updated_since, int limit)
{
    auto after = start_after(cursor_kind::users, cursor);
    if (!after)
        return std::nullopt;
    sqlite_transaction tx(db, false); // one snapshot for the rows and their aliases
    // One row more than the page says whether another page follows.
    auto rows = read_users_after(db, project_id, *after, updated_since, limit + 1);
    tx.commit();
    user_page page;
    if (static_cast<int>(rows.users.size()) > limit) {
        rows.users.pop_back();
        page.next_cursor = encode_page_cursor(cursor_kind::users, rows.ids[static_cast<std::size_t>(limit) - 1]);
    }
    page.users = std::move(rows.users);
    return page;
}

std::optional<company_page> read_company_page(sqlite_connection& db, std::int64_t project_id,
                                              const std::optional<std::string>& cursor,
                                              std::optional<std::int64_t> updated_since, int limit)
{
    auto after = start_after(cursor_kind::companies, cursor);
    if (!after)
        return std::nullopt;
    auto rows = read_companies_after(db, project_id, *after, updated_since, limit + 1);
    company_page page;
    if (static_cast<int>(rows.companies.size()) > limit) {
        rows.companies.pop_back();
        page.next_cursor = encode_page_cursor(cursor_kind::companies, rows.ids[static_cast<std::size_t>(limit) - 1]);
    }
    page.companies = std::move(rows.companies);
    return page;
}

} // namespace profiled
