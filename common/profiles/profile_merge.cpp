#include "common/profiles/profile_merge.hpp"

#include <algorithm>

#include "common/profiles/ids.hpp"

namespace profiled {

user_profile new_user_profile(const std::string& user_id, std::int64_t now)
{
    user_profile u;
    u.user_id = user_id;
    u.id = new_user_public_id();
    u.created_at = now;
    u.updated_at = now;
    return u;
}

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

} // namespace profiled
