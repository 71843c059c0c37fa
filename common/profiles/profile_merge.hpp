// How a change merges into a stored profile.
#pragma once

#include <optional>

#include <boost/json/object.hpp>

#include "common/profiles/profile.hpp"

namespace profiled {

// Given keys overwrite, keys not given stay; null is stored as null.
void merge_properties(boost::json::object& into, const boost::json::object& patch);

// The profile after applying change to existing (or to a new profile when there is none).
user_profile apply_user_change(const std::optional<user_profile>& existing, const user_change& change,
                               std::int64_t now);

// A new, empty profile for user_id with a fresh internal id.
user_profile new_user_profile(const std::string& user_id, std::int64_t now);

// The permanent profile after absorbing an anonymous one (an alias): each property, origin key, email,
// phone and company_id the permanent profile lacks is taken from the anonymous profile (set-once);
// created_at becomes the earlier of the two.
user_profile merge_anonymous_profile(const user_profile& permanent, const user_profile& anonymous, std::int64_t now);

// The company after applying change to existing (or a new company).
company_profile apply_company_change(const std::optional<company_profile>& existing, const company_change& change,
                                     std::int64_t now);

} // namespace profiled
