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
std::optional<user_page> read_user_page(sqlite_connection& db, std::int64_t project_id,
                                        const std::optional<std::string>& cursor,
                                        std::optional<std::int64_t> updated_since, int limit)
{
    auto after = start_after(cursor_kind::users, cursor);
    if (!after)
        return std::nullopt;
    user_page page;
    sqlite_transaction tx(db, false); // one snapshot for the rows and their aliases
    std::int64_t last_id = 0;
    {
        auto q = db.query(std::string(user_columns) +
                              "WHERE id > ?1 AND +project_id = ?2 AND (?3 IS NULL OR updated_at >= ?3) "
                              "ORDER BY id LIMIT ?4",
                          *after, project_id, updated_since, static_cast<std::int64_t>(limit) + 1);
        while (q.step()) {
            if (static_cast<int>(page.users.size()) == limit) {
                page.next_cursor = encode_page_cursor(cursor_kind::users, last_id);
                break;
            }
            last_id = q.int64(9);
            page.users.push_back(read_user(q));
        }
    }
    for (auto& user : page.users) {
        auto a = db.query("SELECT alias_id FROM aliases WHERE project_id = ? AND user_id = ? ORDER BY alias_id",
                          project_id, user.user_id);
        while (a.step())
            user.aliases.push_back(a.text(0));
    }
    tx.commit();
    return page;
}

std::optional<company_page> read_company_page(sqlite_connection& db, std::int64_t project_id,
                                              const std::optional<std::string>& cursor,
                                              std::optional<std::int64_t> updated_since, int limit)
{
    auto after = start_after(cursor_kind::companies, cursor);
    if (!after)
        return std::nullopt;
    company_page page;
    auto q = db.query("SELECT company_id, properties, created_at, updated_at, id FROM companies "
                      "WHERE id > ?1 AND +project_id = ?2 AND (?3 IS NULL OR updated_at >= ?3) "
                      "ORDER BY id LIMIT ?4",
                      *after, project_id, updated_since, static_cast<std::int64_t>(limit) + 1);
    std::int64_t last_id = 0;
    while (q.step()) {
        if (static_cast<int>(page.companies.size()) == limit) {
            page.next_cursor = encode_page_cursor(cursor_kind::companies, last_id);
            break;
        }
        last_id = q.int64(4);
        page.companies.push_back({q.text(0), parse_object(q.text(1)), q.int64(2), q.int64(3)});
    }
    return page;
}

} // namespace profiled
