#include "common/store/sqlite/profile_rows.hpp"

#include <boost/json/serialize.hpp>

#include "common/profiles/ids.hpp"
#include "common/store/sqlite/stored_rows.hpp"

namespace profiled {

namespace json = boost::json;

void upsert_user_rows(sqlite_connection& db, std::int64_t project_id, const std::vector<user_upsert>& rows,
                      std::int64_t now, std::vector<upsert_outcome>* outcomes)
{
    // The alias, when user_id is one, names the user; the proposed internal id is kept only by a new row,
    // which is how a created user is told from an updated one (RETURNING, asked only for outcomes).
    static constexpr std::string_view quiet =
        "INSERT INTO users(project_id, user_id, public_id, email, phone, company_id, properties, origin, "
        "created_at, updated_at) VALUES (?1, coalesce((SELECT a.user_id FROM aliases a WHERE a.project_id = ?1 "
        "AND a.alias_id = ?2), ?2), ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9) "
        "ON CONFLICT(project_id, user_id) DO UPDATE SET email = coalesce(excluded.email, users.email), "
        "phone = coalesce(excluded.phone, users.phone), "
        "company_id = coalesce(excluded.company_id, users.company_id), "
        "properties = profiled_merge(users.properties, excluded.properties), "
        "origin = profiled_merge(users.origin, excluded.origin), updated_at = excluded.updated_at";
    static const std::string reporting = std::string(quiet) + " RETURNING public_id";
    if (outcomes)
        outcomes->reserve(outcomes->size() + rows.size());
    for (const auto& row : rows) {
        std::string proposed = new_user_public_id();
        auto q = db.query(outcomes ? reporting : quiet, project_id, row.user_id, proposed, row.email, row.phone,
                          row.company_id, row.properties, row.origin, now);
        if (!outcomes) {
            q.run();
            continue;
        }
        q.step();
        std::string kept = q.text(0);
        bool created = kept == proposed;
        outcomes->push_back({created, std::move(kept)});
    }
}

void upsert_company_rows(sqlite_connection& db, std::int64_t project_id, const std::vector<company_upsert>& rows,
                         std::int64_t now)
{
    static constexpr const char* sql =
        "INSERT INTO companies(project_id, company_id, properties, created_at, updated_at) "
        "VALUES (?1, ?2, ?3, ?4, ?4) ON CONFLICT(project_id, company_id) DO UPDATE SET "
        "properties = profiled_merge(companies.properties, excluded.properties), updated_at = excluded.updated_at";
    for (const auto& row : rows)
        db.query(sql, project_id, row.company_id, row.properties, now).run();
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
