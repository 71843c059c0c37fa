#include "common/profiles/user_aliases.hpp"

#include <fmt/format.h>

#include "common/api_error.hpp"
#include "common/profiles/profile_merge.hpp"

namespace profiled {

namespace {

// A 409 about the alias being asked for.
api_error alias_conflict(std::string code, std::string message)
{
    return {errc::conflict, std::move(code), std::move(message), "original_id"};
}

} // namespace

result<alias_step> check_alias(const std::string& alias_id, const std::string& original_id,
                               const std::string& permanent_id, const std::string& original_resolves_to)
{
    if (alias_id == original_id)
        return api_error{errc::bad_request, "same_ids", "alias_id and original_id must be different ids",
                         "original_id"};
    if (original_resolves_to != original_id) {
        if (original_resolves_to == permanent_id)
            return alias_step::already_there;
        return alias_conflict("alias_conflict", fmt::format("original_id {} is already an alias of {}; it cannot "
                                                            "also be an alias of {}",
                                                            original_id, original_resolves_to, permanent_id));
    }
    if (permanent_id == original_id)
        return alias_conflict("alias_cycle", fmt::format("original_id {}: alias_id {} already resolves to it, so "
                                                         "aliasing it would make a cycle",
                                                         original_id, alias_id));
    return alias_step::link;
}

user_profile absorbed_profile(const std::optional<user_profile>& permanent, user_profile anonymous,
                              const std::string& permanent_id, std::int64_t now)
{
    if (permanent)
        return merge_anonymous_profile(*permanent, anonymous, now);
    anonymous.user_id = permanent_id;
    anonymous.updated_at = now;
    return anonymous;
}

} // namespace profiled
