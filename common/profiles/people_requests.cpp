#include "common/profiles/people_requests.hpp"

namespace profiled {
namespace json = boost::json;

result<std::string> body_api_key(const json::object& body)
{
    const json::value* key = body.if_contains("apiKey");
    if (!key || key->is_null() || (key->is_string() && key->get_string().empty()))
        return api_error{errc::unauthorized, "unauthorized", "apiKey is required: put your API key in the JSON body",
                         "apiKey"};
    if (!key->is_string())
        return invalid_field("apiKey", "apiKey must be a string");
    return std::string(key->get_string());
}

result<people_update> parse_people_identify(const json::object& body)
{
    auto distinct_id = required_id(body, "distinct_id");
    if (!distinct_id)
        return distinct_id.error();
    auto properties = optional_object(body, "properties");
    if (!properties)
        return properties.error();
    if (auto bad = check_contact_properties(*properties, "properties"))
        return *bad;
    people_update update;
    update.distinct_id = std::move(*distinct_id);
    update.operations.set = std::move(*properties);
    return update;
}

result<people_update> parse_people_set(const json::object& body)
{
    auto distinct_id = required_id(body, "distinct_id");
    if (!distinct_id)
        return distinct_id.error();
    const json::value* operations = body.if_contains("operations");
    if (!operations || operations->is_null())
        return missing_field("operations");
    if (!operations->is_object())
        return invalid_field("operations", "operations must be an object such as {\"$set\": {\"plan\": \"pro\"}}");
    auto ops = parse_people_operations(operations->get_object());
    if (!ops)
        return ops.error();
    return people_update{std::move(*distinct_id), std::move(*ops)};
}

result<alias_request> parse_alias(const json::object& body)
{
    auto alias_id = required_id(body, "alias_id");
    if (!alias_id)
        return alias_id.error();
    auto original_id = required_id(body, "original_id");
    if (!original_id)
        return original_id.error();
    if (*alias_id == *original_id)
        return api_error{errc::bad_request, "same_ids", "alias_id and original_id must be different ids",
                         "original_id"};
    return alias_request{std::move(*alias_id), std::move(*original_id)};
}

} // namespace profiled
