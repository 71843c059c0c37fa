#include "common/profiles/requests.hpp"

#include <optional>

#include <boost/json/parser.hpp>
#include <fmt/format.h>

#include "common/formats/json_numbers.hpp"

namespace profiled {
namespace json = boost::json;

namespace {

// Whether v holds a double anywhere; integers Boost.JSON kept as int64 or uint64 were read exactly.
bool holds_double(const json::value& v)
{
    switch (v.kind()) {
    case json::kind::double_: return true;
    case json::kind::array:
        for (const auto& item : v.get_array()) {
            if (holds_double(item))
                return true;
        }
        return false;
    case json::kind::object:
        for (const auto& member : v.get_object()) {
            if (holds_double(member.value()))
                return true;
        }
        return false;
    default: return false;
    }
}

// The refusal of a number that would be stored as another number than the one sent.
api_error number_out_of_range(const unfit_number& number)
{
    constexpr std::size_t shown = 40;
    std::string text(number.text.substr(0, shown));
    if (number.text.size() > shown)
        text += fmt::format("... ({} characters)", number.text.size());
    std::string where = number.path.empty() ? std::string() : " at " + number.path;
    const char* why = "";
    switch (number.fit) {
    case number_fit::integer_too_large:
        why = "is an integer too large to store exactly: integers must lie between -9223372036854775808 and "
              "18446744073709551615 (send larger ones as strings)";
        break;
    case number_fit::overflow: why = "is out of range: numbers must lie within ±1.7976931348623157e308"; break;
    case number_fit::underflow:
        why = "is too close to 0 to store: a number other than 0 must be at least the smallest double, about "
              "4.9e-324, in magnitude";
        break;
    case number_fit::fits: break;
    }
    return {errc::bad_request, "number_out_of_range", fmt::format("the number {}{} {}", text, where, why),
            number.path};
}

} // namespace

result<json::object> parse_json_object(std::string_view body, json::storage_ptr memory)
{
    if (body.empty())
        return bad_body("empty_body", "the request body is empty; expected a JSON object");
    // One parser per thread, reset for each document: it keeps its parse stack between documents instead of
    // allocating one for every bulk row.
    thread_local json::parser parser = [] {
        json::parse_options options;
        options.max_depth = max_json_depth;
        return json::parser({}, options);
    }();
    parser.reset(std::move(memory));
    boost::system::error_code ec;
    // parser::write needs the complete text; an incomplete document is an error.
    parser.write(body.data(), body.size(), ec);
    std::optional<json::value> parsed;
    if (!ec)
        parsed.emplace(parser.release());
    parser.reset(); // so that the parser keeps nothing of memory, which may end with the caller's request
    if (ec == json::error::too_deep)
        return bad_body("too_deep", fmt::format("JSON nesting deeper than {} levels", max_json_depth));
    if (ec)
        return bad_body("invalid_json", "the body is not valid JSON: " + ec.message());
    json::value& v = *parsed;
    if (!v.is_object())
        return bad_body("invalid_json", "the body must be a JSON object");
    // Boost.JSON silently reads integers beyond 64 bits as rounded doubles, 1e400 as infinity and 1e-400 as 0:
    // such a number is refused rather than stored as another. Only a tree with a double can hold one.
    if (holds_double(v)) {
        if (auto unfit = find_unfit_number(body))
            return number_out_of_range(*unfit);
    }
    return std::move(v.as_object());
}

result<std::string> required_id(const json::object& body, std::string_view field)
{
    auto it = body.find(field);
    if (it == body.end() || it->value().is_null())
        return missing_field(std::string(field));
    if (!it->value().is_string())
        return invalid_field(std::string(field), fmt::format("{} must be a string", field));
    const json::string& s = it->value().get_string();
    if (s.empty())
        return invalid_field(std::string(field), fmt::format("{} must not be empty", field));
    if (s.size() > max_id_bytes)
        return invalid_field(std::string(field), fmt::format("{} is longer than {} bytes", field, max_id_bytes));
    return std::string(s);
}

result<std::optional<std::string>> optional_id(const json::object& body, std::string_view field)
{
    auto it = body.find(field);
    if (it == body.end() || it->value().is_null())
        return std::optional<std::string>();
    auto id = required_id(body, field);
    if (!id)
        return id.error();
    return std::optional<std::string>(std::move(*id));
}

namespace {

// The object at field, or nullptr when it is absent or null; an error when it is anything else.
result<const json::object*> object_field(const json::object& body, std::string_view field)
{
    auto it = body.find(field);
    if (it == body.end() || it->value().is_null())
        return static_cast<const json::object*>(nullptr);
    if (!it->value().is_object())
        return invalid_field(std::string(field), fmt::format("{} must be an object", field));
    return &it->value().get_object();
}

} // namespace

result<json::object> optional_object(const json::object& body, std::string_view field)
{
    auto found = object_field(body, field);
    if (!found)
        return found.error();
    return *found ? **found : json::object();
}

result<json::object> take_object(json::object& body, std::string_view field)
{
    auto found = object_field(body, field);
    if (!found)
        return found.error();
    if (!*found)
        return json::object();
    return std::move(body.find(field)->value().get_object());
}

namespace {

// Bulk metadata values must be primitives: string, number, boolean or null.
result<json::object> primitive_metadata(json::object& row)
{
    auto metadata = take_object(row, "metadata");
    if (!metadata)
        return metadata.error();
    for (const auto& [key, value] : *metadata) {
        if (value.is_object() || value.is_array())
            return invalid_field(fmt::format("metadata.{}", std::string_view(key)),
                                 fmt::format("metadata.{} must be a string, number, boolean or null",
                                             std::string_view(key)));
    }
    return metadata;
}

} // namespace

// POST /v1/identify.
result<identify_request> parse_identify(json::object& body)
{
    auto user_id = required_id(body, "user_id");
    if (!user_id)
        return user_id.error();
    auto metadata = take_object(body, "metadata");
    if (!metadata)
        return metadata.error();
    auto company = take_object(body, "company");
    if (!company)
        return company.error();
    // The objects are constructed from the body's, never assigned: they keep the body's storage (Boost.JSON
    // copies an object assigned across storages), so a body parsed into a request's own memory stays there.
    std::optional<company_change> company_part;
    std::optional<std::string> company_id_of_user;
    if (auto it = body.find("company"); it != body.end() && !it->value().is_null()) {
        // The seed documents call the company's id "id"; DESIGN also accepts "company_id".
        // A null "id" next to a "company_id" is the same as no "id".
        auto id = company->if_contains("id");
        const char* id_field = id && !id->is_null() ? "id" : "company_id";
        if (!company->contains(id_field))
            return missing_field("company.id");
        auto company_id = required_id(*company, id_field);
        if (!company_id) {
            api_error e = company_id.error();
            e.field = std::string("company.") + id_field;
            e.message = "company." + e.message;
            return e;
        }
        json::object properties(company->storage());
        properties.reserve(company->size());
        for (auto& [key, value] : *company) {
            if (key != "id" && key != "company_id")
                properties.emplace(key, std::move(value));
        }
        company_id_of_user = *company_id;
        company_part.emplace(company_change{std::move(*company_id), std::move(properties)});
    }
    return identify_request{
        user_change{std::move(*user_id), std::nullopt, std::nullopt, std::move(company_id_of_user), std::move(*metadata),
                    json::object()},
        std::move(company_part)};
}

result<company_change> parse_company_identify(json::object& body)
{
    auto company_id = required_id(body, "company_id");
    if (!company_id)
        return company_id.error();
    auto metadata = take_object(body, "metadata");
    if (!metadata)
        return metadata.error();
    return company_change{std::move(*company_id), std::move(*metadata)};
}

result<user_change> parse_bulk_user_row(json::object& row)
{
    auto user_id = required_id(row, "user_id");
    if (!user_id)
        return user_id.error();
    auto company_id = optional_id(row, "company_id");
    if (!company_id)
        return company_id.error();
    auto metadata = primitive_metadata(row);
    if (!metadata)
        return metadata.error();
    user_change change;
    change.user_id = std::move(*user_id);
    change.company_id = std::move(*company_id);
    change.properties = std::move(*metadata);
    return change;
}

result<company_change> parse_bulk_company_row(json::object& row)
{
    auto company_id = required_id(row, "company_id");
    if (!company_id)
        return company_id.error();
    auto metadata = primitive_metadata(row);
    if (!metadata)
        return metadata.error();
    return company_change{std::move(*company_id), std::move(*metadata)};
}

} // namespace profiled
