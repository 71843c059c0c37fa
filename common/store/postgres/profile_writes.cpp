#include "common/store/postgres/profile_writes.hpp"

#include <boost/json/serialize.hpp>

#include "common/profiles/ids.hpp"
#include "common/profiles/people_writes.hpp"
#include "common/profiles/user_aliases.hpp"
#include "common/store/postgres/postgres_rows.hpp"

namespace profiled {

namespace json = boost::json;

namespace {

// The user row with exactly this user_id (no alias followed), locked until the transaction ends.
std::optional<user_profile> load_locked(pg_connection& db, std::int64_t project_id, const std::string& user_id)
{
    static const std::string sql = std::string("SELECT ") + pg_user_column_list +
                                   " FROM users u WHERE u.project_id = $1 AND u.user_id = $2 FOR UPDATE";
    auto r = db.query(sql, project_id, user_id);
    if (r.empty())
        return std::nullopt;
    return pg_read_user(r, 0);
}

// Inserts (is_new) or replaces the profile, matched on project and user_id.
void save_user(pg_connection& db, std::int64_t project_id, const user_profile& u, bool is_new)
{
    std::string properties = jsonb_text(json::serialize(u.properties));
    std::string origin = jsonb_text(json::serialize(u.origin));
    if (is_new) {
        db.query("INSERT INTO users(project_id, user_id, public_id, email, phone, company_id, properties, origin, "
                 "created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8::jsonb, $9, $10)",
                 project_id, u.user_id, u.id, u.email, u.phone, u.company_id, properties, origin, u.created_at,
                 u.updated_at);
        return;
    }
    db.query("UPDATE users SET email = $1, phone = $2, company_id = $3, properties = $4::jsonb, origin = $5::jsonb, "
             "created_at = $6, updated_at = $7 WHERE project_id = $8 AND user_id = $9",
             u.email, u.phone, u.company_id, properties, origin, u.created_at, u.updated_at, project_id, u.user_id);
}

} // namespace

std::optional<api_error> pg_update_people(pg_connection& db, const update_people& update)
{
    std::string user_id = pg_resolve_user_id(db, update.project_id, update.distinct_id);
    auto existing = load_locked(db, update.project_id, user_id);
    if (!existing) {
        // Created empty, then locked like any other row: a writer creating the same user at once waits for this
        // one and then finds its row. A refusal undoes the empty row with the rest of the unit.
        db.query("INSERT INTO users(project_id, user_id, public_id, created_at, updated_at) "
                 "VALUES ($1, $2, $3, $4, $4) ON CONFLICT (project_id, user_id) DO NOTHING",
                 update.project_id, user_id, new_user_public_id(), update.now);
        existing = load_locked(db, update.project_id, user_id);
        if (!existing)
            throw std::logic_error("a user created for a people update cannot be found");
    }
    auto updated = apply_people_update(std::move(*existing), update.operations, update.now);
    if (!updated)
        return updated.error();
    save_user(db, update.project_id, *updated, false);
    return std::nullopt;
}

std::optional<api_error> pg_alias_user(pg_connection& db, const alias_user& alias)
{
    std::int64_t project = alias.project_id;
    std::string permanent_id = pg_resolve_user_id(db, project, alias.alias_id);
    std::string original_resolves_to = pg_resolve_user_id(db, project, alias.original_id);
    auto step = check_alias(alias.alias_id, alias.original_id, permanent_id, original_resolves_to);
    if (!step)
        return step.error();
    if (*step == alias_step::already_there)
        return std::nullopt;
    if (auto anonymous = load_locked(db, project, alias.original_id)) {
        auto permanent = load_locked(db, project, permanent_id);
        // Deleted first: a moved profile keeps its internal id, which is unique.
        pg_delete_user(db, project, alias.original_id);
        save_user(db, project, absorbed_profile(permanent, std::move(*anonymous), permanent_id, alias.now), !permanent);
    }
    db.query("UPDATE aliases SET user_id = $1 WHERE project_id = $2 AND user_id = $3", permanent_id, project,
             alias.original_id);
    try {
        db.query("INSERT INTO aliases(project_id, alias_id, user_id, created_at) VALUES ($1, $2, $3, $4)", project,
                 alias.original_id, permanent_id, alias.now);
    } catch (const postgres_error& e) {
        if (e.sqlstate() != "23505")
            throw;
        // Another writer aliased original_id between our reads and this insert: it won, as a second alias of the
        // same id does in one writer. The caller rolls this unit back to its savepoint.
        return api_error{errc::conflict, "alias_conflict",
                         "original_id " + alias.original_id + " was just aliased by another request", "original_id"};
    }
    return std::nullopt;
}

std::int64_t pg_delete_user(pg_connection& db, std::int64_t project_id, const std::string& user_id)
{
    return db.query("DELETE FROM users WHERE project_id = $1 AND user_id = $2", project_id, user_id).affected();
}

} // namespace profiled
