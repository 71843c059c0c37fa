#include "common/profiles/profile_merge.hpp"

#include <algorithm>

#include "common/profiles/ids.hpp"

namespace profiled {

// Given keys overwrite, keys not given stay; null is stored as null.
void merge_properties(boost::json::object& into, const boost::json::object& patch)
{
    for (const auto& [key, value] : patch)
        into[key] = value;
}

// The profile after applying change to existing (or to a new profile).
user_profile apply_user_change(const std::optional<user_profile>& existing, const user_change& change,
                               std::int64_t now)
{
    user_profile u;
    if (existing) {
        u = *existing;
    } else {
        u.user_id = change.user_id;
        u.id = new_user_public_id();
        u.created_at = now;
    }
    if (change.email)
        u.email = change.email;
    if (change.phone)
        u.phone = change.phone;
    if (change.company_id)
        u.company_id = change.company_id;
    merge_properties(u.properties, change.properties);
    merge_properties(u.origin, change.origin);
    u.updated_at = now;
    return u;
}

// A new, empty profile for user_id with a fresh internal id.
user_profile new_user_profile(const std::string& user_id, std::int64_t now)
{
    user_profile u;
    u.user_id = user_id;
    u.id = new_user_public_id();
    u.created_at = now;
    u.updated_at = now;
    return u;
}

// The permanent profile after absorbing an anonymous one, set-once.
user_profile merge_anonymous_profile(const user_profile& permanent, const user_profile& anonymous, std::int64_t now)
{
    user_profile u = permanent;
    for (const auto& [key, value] : anonymous.properties) {
        if (!u.properties.contains(key))
            u.properties[key] = value;
    }
    for (const auto& [key, value] : anonymous.origin) {
        if (!u.origin.contains(key))
            u.origin[key] = value;
    }
    if (!u.email)
        u.email = anonymous.email;
    if (!u.phone)
        u.phone = anonymous.phone;
    if (!u.company_id)
        u.company_id = anonymous.company_id;
    u.created_at = std::min(permanent.created_at, anonymous.created_at);
    u.updated_at = now;
    return u;
}

// The company after applying change to existing (or a new company).
company_profile apply_company_change(const std::optional<company_profile>& existing, const company_change& change,
                                     std::int64_t now)
{
    company_profile c;
    if (existing) {
        c = *existing;
    } else {
        c.company_id = change.company_id;
        c.created_at = now;
    }
    merge_properties(c.properties, change.properties);
    c.updated_at = now;
    return c;
}

} // namespace profiled
