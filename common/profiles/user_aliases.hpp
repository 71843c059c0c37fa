// The alias rules: when an anonymous id may resolve to a permanent one, and the profile that results.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/profiles/profile.hpp"
#include "common/profiles/requests.hpp"

namespace profiled {

// What an alias asks of the store once it is allowed.
enum class alias_step {
    link,          // absorb original_id's profile, point its aliases and itself at the permanent id
    already_there, // original_id already resolves to the permanent id: repeating an alias is a no-op
};

// Whether original_id may become an alias of permanent_id (what alias_id resolves to), given what original_id
// resolves to now. A 400 for the same id twice; a 409 when original_id is already an alias of another user, or
// when alias_id resolves to original_id (a cycle).
result<alias_step> check_alias(const std::string& alias_id, const std::string& original_id,
                               const std::string& permanent_id, const std::string& original_resolves_to);

// The profile the permanent id holds after absorbing the anonymous one: the two merged set-once when the
// permanent id has a profile, else the anonymous profile (internal id and all) moved to the permanent id.
user_profile absorbed_profile(const std::optional<user_profile>& permanent, user_profile anonymous,
                              const std::string& permanent_id, std::int64_t now);

} // namespace profiled
