#include "common/profiles/user_writes.hpp"

#include "common/profiles/profile_merge.hpp"

namespace profiled {

// Merges change into the user it resolves to, creating the user when new.
upsert_outcome upsert_user(store_writer& w, std::int64_t project_id, const user_change& change, std::int64_t now)
{
    user_change resolved = change;
    resolved.user_id = w.resolve_user_id(project_id, change.user_id);
    auto existing = w.load_user(project_id, resolved.user_id);
    user_profile updated = apply_user_change(existing, resolved, now);
    w.save_user(project_id, updated, !existing);
    return {!existing, updated.id};
}

// Merges change into the company, creating it when new.
void upsert_company(store_writer& w, std::int64_t project_id, const company_change& change, std::int64_t now)
{
    auto existing = w.load_company(project_id, change.company_id);
    w.save_company(project_id, apply_company_change(existing, change, now), !existing);
}

} // namespace profiled
