#include "common/profile_merge.hpp"

#include "common/ids.hpp"

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
