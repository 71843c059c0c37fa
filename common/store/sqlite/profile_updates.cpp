#include "common/store/sqlite/profile_updates.hpp"

#include "common/profiles/people_writes.hpp"
#include "common/profiles/profile_merge.hpp"
#include "common/profiles/user_aliases.hpp"
#include "common/store/sqlite/profile_rows.hpp"
#include "common/store/sqlite/stored_rows.hpp"

namespace profiled {

std::optional<api_error> update_people_rows(sqlite_connection& db, const update_people& update)
{
    std::string user_id = resolve_user_id(db, update.project_id, update.distinct_id);
    auto existing = load_user(db, update.project_id, user_id);
    auto updated = apply_people_update(existing ? *existing : new_user_profile(user_id, update.now),
                                       update.operations, update.now);
    if (!updated)
        return updated.error();
    save_user(db, update.project_id, *updated, !existing);
    return std::nullopt;
}

std::optional<api_error> alias_user_rows(sqlite_connection& db, const alias_user& alias)
{
    std::int64_t project = alias.project_id;
    std::string permanent_id = resolve_user_id(db, project, alias.alias_id);
    std::string original_resolves_to = resolve_user_id(db, project, alias.original_id);
    auto step = check_alias(alias.alias_id, alias.original_id, permanent_id, original_resolves_to);
    if (!step)
        return step.error();
    if (*step == alias_step::already_there)
        return std::nullopt;
    if (auto anonymous = load_user(db, project, alias.original_id)) {
        auto permanent = load_user(db, project, permanent_id);
        // Deleted first: a moved profile keeps its internal id, which is unique.
        delete_user_row(db, project, alias.original_id);
        save_user(db, project, absorbed_profile(permanent, std::move(*anonymous), permanent_id, alias.now),
                  !permanent);
    }
    move_aliases(db, project, alias.original_id, permanent_id);
    insert_alias(db, project, alias.original_id, permanent_id, alias.now);
    return std::nullopt;
}

} // namespace profiled
