#include "common/store/sqlite/profile_rows.hpp"

#include <algorithm>

#include <boost/json/serialize.hpp>

#include "common/profiles/ids.hpp"
#include "common/store/sqlite/stored_rows.hpp"

namespace profiled {

namespace json = boost::json;

namespace {

// The rows' positions in the order of their keys, rows of one key kept in their given order: upserting a chunk in
// key order walks each index from one page to the next instead of seeking at random.
template <typename Row, typename Key>
std::vector<std::size_t> in_key_order(const std::vector<Row>& rows, Key key)
{
    std::vector<std::size_t> order(rows.size());
    for (std::size_t i = 0; i < order.size(); ++i)
        order[i] = i;
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return key(rows[a]) < key(rows[b]); });
    return order;
}

// Whether any alias names a user of the project.
bool has_aliases(sqlite_connection& db, std::int64_t project_id)
{
    auto q = db.query("SELECT EXISTS (SELECT 1 FROM aliases WHERE project_id = ?)", project_id);
    return q.step() && q.int64(0) != 0;
}

} // namespace

void upsert_user_rows(sqlite_connection& db, std::int64_t project_id, const std::vector<user_upsert>& rows,
                      std::int64_t now, std::vector<upsert_outcome>* outcomes)
{
    // The alias, when user_id is one, names the user; the proposed internal id is kept only by a new row,
    // which is how a created user is told from an updated one (RETURNING, asked only for outcomes).
    static const std::string head =
        "INSERT INTO users(project_id, user_id, public_id, email, phone, company_id, properties, origin, "
        "created_at, updated_at) VALUES (?1, ";
    static const std::string tail =
        ", ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9) "
        "ON CONFLICT(project_id, user_id) DO UPDATE SET email = coalesce(excluded.email, users.email), "
        "phone = coalesce(excluded.phone, users.phone), "
        "company_id = coalesce(excluded.company_id, users.company_id), "
        "properties = profiled_merge(users.properties, excluded.properties), "
        "origin = profiled_merge(users.origin, excluded.origin), updated_at = excluded.updated_at";
    static const std::string through_aliases =
        head + "coalesce((SELECT a.user_id FROM aliases a WHERE a.project_id = ?1 AND a.alias_id = ?2), ?2)" + tail;
    static const std::string direct = head + "?2" + tail;
    static const std::string reporting_through_aliases = through_aliases + " RETURNING public_id";
    static const std::string reporting_direct = direct + " RETURNING public_id";
    // In a project without aliases a row can name a user by its own id only, so a chunk may run in user_id order
    // (the stable sort keeps one user's rows in theirs) and without the alias lookup. The write transaction is
    // open, so no alias appears meanwhile.
    bool aliased = rows.size() > 1 ? has_aliases(db, project_id) : true;
    const std::string& sql = outcomes ? (aliased ? reporting_through_aliases : reporting_direct)
                                      : (aliased ? through_aliases : direct);
    std::vector<std::size_t> order;
    if (!aliased)
        order = in_key_order(rows, [](const user_upsert& r) -> const std::string& { return r.user_id; });
    std::size_t first = 0;
    if (outcomes) {
        first = outcomes->size();
        outcomes->resize(first + rows.size());
    }
    for (std::size_t n = 0; n < rows.size(); ++n) {
        std::size_t i = order.empty() ? n : order[n];
        const auto& row = rows[i];
        std::string proposed = new_user_public_id();
        auto q = db.borrowing_query(sql, project_id, row.user_id, proposed, row.email, row.phone, row.company_id,
                                    row.properties, row.origin, now);
        if (!outcomes) {
            q.run();
            continue;
        }
        q.step();
        std::string kept = q.text(0);
        bool created = kept == proposed;
        (*outcomes)[first + i] = {created, std::move(kept)};
    }
}

void upsert_company_rows(sqlite_connection& db, std::int64_t project_id, const std::vector<company_upsert>& rows,
                         std::int64_t now)
{
    static constexpr const char* sql =
        "INSERT INTO companies(project_id, company_id, properties, created_at, updated_at) "
        "VALUES (?1, ?2, ?3, ?4, ?4) ON CONFLICT(project_id, company_id) DO UPDATE SET "
        "properties = profiled_merge(companies.properties, excluded.properties), updated_at = excluded.updated_at";
    for (std::size_t i : in_key_order(rows, [](const company_upsert& r) -> const std::string& { return r.company_id; }))
        db.borrowing_query(sql, project_id, rows[i].company_id, rows[i].properties, now).run();
}

std::optional<user_profile> load_user(sqlite_connection& db, std::int64_t project_id, const std::string& user_id)
{
    auto q = db.query(std::string(user_columns) + "WHERE project_id = ? AND user_id = ?", project_id, user_id);
    if (!q.step())
        return std::nullopt;
    return read_user(q);
}

void save_user(sqlite_connection& db, std::int64_t project_id, const user_profile& u, bool is_new)
{
    std::string properties = json::serialize(u.properties);
    std::string origin = json::serialize(u.origin);
    if (is_new) {
        db.query("INSERT INTO users(project_id, user_id, public_id, email, phone, company_id, properties, origin, "
                 "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                 project_id, u.user_id, u.id, u.email, u.phone, u.company_id, properties, origin, u.created_at,
                 u.updated_at)
            .run();
        return;
    }
    db.query("UPDATE users SET email = ?, phone = ?, company_id = ?, properties = ?, origin = ?, "
             "created_at = ?, updated_at = ? WHERE project_id = ? AND user_id = ?",
             u.email, u.phone, u.company_id, properties, origin, u.created_at, u.updated_at, project_id, u.user_id)
        .run();
}

int delete_user_row(sqlite_connection& db, std::int64_t project_id, const std::string& user_id)
{
    db.query("DELETE FROM users WHERE project_id = ? AND user_id = ?", project_id, user_id).run();
    return db.changes();
}

void insert_alias(sqlite_connection& db, std::int64_t project_id, const std::string& alias_id,
                  const std::string& user_id, std::int64_t now)
{
    db.query("INSERT INTO aliases(project_id, alias_id, user_id, created_at) VALUES (?, ?, ?, ?)", project_id,
             alias_id, user_id, now)
        .run();
}

void move_aliases(sqlite_connection& db, std::int64_t project_id, const std::string& from_user_id,
                  const std::string& to_user_id)
{
    db.query("UPDATE aliases SET user_id = ? WHERE project_id = ? AND user_id = ?", to_user_id, project_id,
             from_user_id)
        .run();
}

} // namespace profiled
