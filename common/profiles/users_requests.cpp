#include "common/profiles/users_requests.hpp"

#include "common/profiles/contact_fields.hpp"

namespace profiled {
namespace json = boost::json;

namespace {

// An optional contact field: absent or null gives nothing; otherwise a string that passes valid().
result<std::optional<std::string>> optional_contact(const json::object& body, std::string_view field,
                                                    bool (*valid)(std::string_view), std::string_view expected)
{
    const json::value* value = body.if_contains(field);
    if (!value || value->is_null())
        return std::optional<std::string>();
    if (!value->is_string() || !valid(value->get_string()))
        return invalid_field(std::string(field), std::string(field) + " must be " + std::string(expected));
    return std::optional<std::string>(std::string(value->get_string()));
}

} // namespace

result<user_change> parse_users_request(const json::object& body)
{
    auto user_id = required_id(body, "user_id");
    if (!user_id)
        return user_id.error();
    auto email = optional_contact(body, "email", is_email_address, "an email address like user@example.com");
    if (!email)
        return email.error();
    auto phone = optional_contact(body, "phone", is_e164_phone,
                                  "an E.164 phone number: '+' and 8 to 15 digits, like +14155550123");
    if (!phone)
        return phone.error();
    auto properties = optional_object(body, "properties");
    if (!properties)
        return properties.error();
    auto origin = optional_object(body, "origin");
    if (!origin)
        return origin.error();
    user_change change;
    change.user_id = std::move(*user_id);
    change.email = std::move(*email);
    change.phone = std::move(*phone);
    change.properties = std::move(*properties);
    change.origin = std::move(*origin);
    return change;
}

} // namespace profiled
