#include "common/profiles/people_writes.hpp"


namespace profiled {
namespace json = boost::json;

namespace {

// The contact field's new value when the property changed: the string, or nothing when null or removed.
void follow_contact_property(std::optional<std::string>& field, const json::object& before,
                             const json::object& after, std::string_view property)
{
    const json::value* old_value = before.if_contains(property);
    const json::value* new_value = after.if_contains(property);
    bool changed = (old_value == nullptr) != (new_value == nullptr) || (old_value && *old_value != *new_value);
    if (!changed)
        return;
    if (new_value && new_value->is_string())
        field = std::string(new_value->get_string());
    else
        field.reset();
}

} // namespace

result<user_profile> apply_people_update(user_profile profile, const people_operations& ops, std::int64_t now)
{
    auto properties = apply_people_operations(profile.properties, ops);
    if (!properties)
        return properties.error();
    follow_contact_property(profile.email, profile.properties, *properties, email_property);
    follow_contact_property(profile.phone, profile.properties, *properties, phone_property);
    profile.properties = std::move(*properties);
    profile.updated_at = now;
    return profile;
}

} // namespace profiled
