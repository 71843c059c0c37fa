#include "common/profiles/user_aliases.hpp"

#include <fmt/format.h>

#include "common/api_error.hpp"
#include "common/profiles/profile_merge.hpp"

namespace profiled {

namespace {

// A 409 about the alias being asked for.
api_exception alias_conflict(std::string code, std::string message)
{
    return api_exception({errc::conflict, std::move(code), std::move(message), "original_id"});
}

// Moves the anonymous profile under the permanent id, merging when that id has a profile too.
void absorb_profile(store_writer& w, std::int64_t project_id, const std::string& permanent_id,
                    const std::string& original_id, std::int64_t now)
{
    auto anonymous = w.load_user(project_id, original_id);
    if (!anonymous)
        return;
    auto permanent = w.load_user(project_id, permanent_id);
    // Deleted first: the moved profile keeps its internal id, which is unique.
    w.delete_user(project_id, original_id);
    if (permanent) {
        w.save_user(project_id, merge_anonymous_profile(*permanent, *anonymous, now), false);
        return;
    }
    user_profile moved = std::move(*anonymous);
    moved.user_id = permanent_id;
    moved.updated_at = now;
    w.save_user(project_id, moved, true);
}

} // namespace

void alias_user(store_writer& w, std::int64_t project_id, const std::string& alias_id,
                const std::string& original_id, std::int64_t now)
{
    if (alias_id == original_id)
        throw api_exception({errc::bad_request, "same_ids", "alias_id and original_id must be different ids",
                             "original_id"});
    std::string permanent_id = w.resolve_user_id(project_id, alias_id);
    std::string original_resolves_to = w.resolve_user_id(project_id, original_id);
    if (original_resolves_to != original_id) {
        if (original_resolves_to == permanent_id)
            return;
        throw alias_conflict("alias_conflict", fmt::format("original_id {} is already an alias of {}; it cannot "
                                                           "also be an alias of {}",
                                                           original_id, original_resolves_to, permanent_id));
    }
    if (permanent_id == original_id)
        throw alias_conflict("alias_cycle", fmt::format("original_id {}: alias_id {} already resolves to it, so "
                                                        "aliasing it would make a cycle",
                                                        original_id, alias_id));
    absorb_profile(w, project_id, permanent_id, original_id, now);
    w.move_aliases(project_id, original_id, permanent_id);
    w.insert_alias(project_id, original_id, permanent_id, now);
}

} // namespace profiled
