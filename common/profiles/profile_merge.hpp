// How profiles merge outside a plain upsert (plain upserts merge inside the database: object_merge.hpp).
#pragma once

#include <optional>

#include <boost/json/object.hpp>

#include "common/profiles/profile.hpp"

namespace profiled {

// A new, empty profile for user_id with a fresh internal id.
user_profile new_user_profile(const std::string& user_id, std::int64_t now);

// The permanent profile after absorbing an anonymous one (an alias): each property, origin key, email,
// phone and company_id the permanent profile lacks is taken from the anonymous profile (set-once);
// created_at becomes the earlier of the two.
user_profile merge_anonymous_profile(const user_profile& permanent, const user_profile& anonymous, std::int64_t now);

} // namespace profiled
