// How a change merges into a stored profile.
#pragma once

#include <optional>

#include <boost/json/object.hpp>

#include "common/profile.hpp"

namespace profiled {

// Given keys overwrite, keys not given stay; null is stored as null.
void merge_properties(boost::json::object& into, const boost::json::object& patch);

// The profile after applying change to existing (or to a new profile when there is none).
user_profile apply_user_change(const std::optional<user_profile>& existing, const user_change& change,
                               std::int64_t now);

// The company after applying change to existing (or a new company).
company_profile apply_company_change(const std::optional<company_profile>& existing, const company_change& change,
                                     std::int64_t now);

} // namespace profiled
