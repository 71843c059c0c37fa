#include "common/profiles/people_operations.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <unordered_map>

#include <boost/json/value.hpp>
#include <fmt/format.h>

#include "common/profiles/contact_fields.hpp"

namespace profiled {
namespace json = boost::json;

namespace {

// The error details name of one operand: "operations.$add.login_count".
std::string operand_field(std::string_view field, std::string_view op, std::string_view property)
{
    return fmt::format("{}.{}.{}", field, op, property);
}

// A stored value that the operation cannot work on; the whole request is refused.
api_error type_conflict(std::string field, std::string message)
{
    return {errc::bad_request, "type_conflict", std::move(message), std::move(field)};
}

// How a stored value's type is named in messages.
std::string_view kind_name(const json::value& v)
{
    switch (v.kind()) {
    case json::kind::null: return "null";
    case json::kind::bool_: return "boolean";
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_: return "number";
    case json::kind::string: return "string";
    case json::kind::array: return "list";
    case json::kind::object: return "object";
    }
    return "value";
}

// True for the properties that mirror the profile's email and phone.
bool is_contact_property(std::string_view name) { return name == email_property || name == phone_property; }

// An operand map of one operation: absent or null gives {}, anything but an object is a 400.
result<json::object> operand_map(const json::value& operand, std::string_view field, std::string_view op)
{
    if (operand.is_null())
        return json::object();
    if (!operand.is_object())
        return invalid_field(fmt::format("{}.{}", field, op), fmt::format("{}.{} must be an object", field, op));
    return operand.get_object();
}

// Refuses $email / $phone in an operation that would make them a number or a list.
std::optional<api_error> no_contact_properties(const json::object& operands, std::string_view field,
                                               std::string_view op)
{
    for (const auto& [name, value] : operands) {
        if (is_contact_property(name))
            return invalid_field(operand_field(field, op, name),
                                 fmt::format("{}: {} can only be changed with $set, $set_once or $unset",
                                             operand_field(field, op, name), std::string_view(name)));
    }
    return std::nullopt;
}

// $unset's operand: a list of property names.
result<std::vector<std::string>> unset_names(const json::value& operand, std::string_view field)
{
    std::vector<std::string> names;
    if (operand.is_null())
        return names;
    if (!operand.is_array())
        return invalid_field(fmt::format("{}.$unset", field),
                             fmt::format("{}.$unset must be a list of property names", field));
    const json::array& list = operand.get_array();
    for (std::size_t i = 0; i < list.size(); ++i) {
        if (!list[i].is_string())
            return invalid_field(fmt::format("{}.$unset[{}]", field, i),
                                 fmt::format("{}.$unset[{}] must be a string (a property name)", field, i));
        names.emplace_back(list[i].get_string());
    }
    return names;
}

// A number operand added to a stored number: integers stay integers while they fit in 64 bits.
std::optional<json::value> add_numbers(const json::value& stored, const json::value& delta)
{
    if (!stored.is_double() && !delta.is_double()) {
        auto wide = [](const json::value& v) -> __int128 {
            return v.is_int64() ? __int128(v.get_int64()) : __int128(v.get_uint64());
        };
        __int128 sum = wide(stored) + wide(delta);
        if (sum >= std::numeric_limits<std::int64_t>::min() && sum <= std::numeric_limits<std::int64_t>::max())
            return json::value(static_cast<std::int64_t>(sum));
        if (sum >= 0 && sum <= std::numeric_limits<std::uint64_t>::max())
            return json::value(static_cast<std::uint64_t>(sum));
    }
    double sum = stored.to_number<double>() + delta.to_number<double>();
    if (!std::isfinite(sum))
        return std::nullopt;
    return json::value(sum);
}

// Spreads the bits of a hash so sums and combinations of hashes stay well mixed.
std::size_t mix(std::size_t h)
{
    std::uint64_t x = h;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return static_cast<std::size_t>(x);
}

// A hash that agrees with json::value's operator==: an int64 and a uint64 of the same value hash
// alike, 0.0 and -0.0 hash alike, and an object's hash ignores the order of its members.
std::size_t value_hash(const json::value& v)
{
    switch (v.kind()) {
    case json::kind::null: return 0x6e756c6c;
    case json::kind::bool_: return v.get_bool() ? 0x74727565 : 0x66616c73;
    case json::kind::int64: return mix(static_cast<std::size_t>(v.get_int64()) ^ 0x1);
    case json::kind::uint64: return mix(static_cast<std::size_t>(v.get_uint64()) ^ 0x1);
    case json::kind::double_: {
        double d = v.get_double() == 0 ? 0.0 : v.get_double();
        return mix(std::hash<double>{}(d) ^ 0x2);
    }
    case json::kind::string: return std::hash<std::string_view>{}(v.get_string());
    case json::kind::array: {
        std::size_t h = 0x3;
        for (const auto& element : v.get_array())
            h = mix(h * 31 + value_hash(element));
        return h;
    }
    case json::kind::object: {
        std::size_t h = 0x4;
        for (const auto& [key, value] : v.get_object())
            h += mix(std::hash<std::string_view>{}(key) * 31 + value_hash(value));
        return h;
    }
    }
    return 0;
}

// The list stored under name for a list operation: absent or null starts an empty list; a scalar is a 400.
result<json::array*> stored_list(json::object& properties, std::string_view name, std::string_view field,
                                 std::string_view op)
{
    json::value& slot = properties[name];
    if (slot.is_null())
        slot = json::array();
    if (!slot.is_array())
        return type_conflict(operand_field(field, op, name),
                             fmt::format("{}: {} needs a list, but {} holds a {}", operand_field(field, op, name),
                                         op, name, kind_name(slot)));
    return &slot.get_array();
}

// $add: each operand added to the stored number.
std::optional<api_error> apply_add(json::object& properties, const json::object& add, std::string_view field)
{
    for (const auto& [name, delta] : add) {
        const json::value* stored = properties.if_contains(name);
        json::value zero(std::int64_t(0));
        if (!stored || stored->is_null())
            stored = &zero;
        if (!stored->is_number())
            return type_conflict(operand_field(field, "$add", name),
                                 fmt::format("{}: $add needs a number, but {} holds a {}",
                                             operand_field(field, "$add", name), std::string_view(name),
                                             kind_name(*stored)));
        auto sum = add_numbers(*stored, delta);
        if (!sum)
            return invalid_field(operand_field(field, "$add", name),
                                 fmt::format("{}: the sum is too large to store", operand_field(field, "$add", name)));
        properties[name] = std::move(*sum);
    }
    return std::nullopt;
}

// $append: each operand appended as one element.
std::optional<api_error> apply_append(json::object& properties, const json::object& append, std::string_view field)
{
    for (const auto& [name, value] : append) {
        auto list = stored_list(properties, name, field, "$append");
        if (!list)
            return list.error();
        (*list)->push_back(value);
    }
    return std::nullopt;
}

// $union: each element of each operand list appended unless already present.
std::optional<api_error> apply_union(json::object& properties, const json::object& union_values,
                                     std::string_view field)
{
    for (const auto& [name, values] : union_values) {
        auto list = stored_list(properties, name, field, "$union");
        if (!list)
            return list.error();
        // Indexed by hash: a linear search per element made a 200 KB request stall the writer for seconds.
        json::array& elements = **list;
        const json::array& additions = values.get_array();
        std::unordered_multimap<std::size_t, std::size_t> index; // hash -> position in elements
        index.reserve(elements.size() + additions.size());
        for (std::size_t i = 0; i < elements.size(); ++i)
            index.emplace(value_hash(elements[i]), i);
        for (const auto& value : additions) {
            std::size_t h = value_hash(value);
            auto [first, last] = index.equal_range(h);
            bool present = std::any_of(first, last, [&](const auto& entry) { return elements[entry.second] == value; });
            if (!present) {
                elements.push_back(value);
                index.emplace(h, elements.size() - 1);
            }
        }
    }
    return std::nullopt;
}

// $remove: every element equal to the operand removed; an absent property stays absent.
std::optional<api_error> apply_remove(json::object& properties, const json::object& remove, std::string_view field)
{
    for (const auto& [name, value] : remove) {
        json::value* stored = properties.if_contains(name);
        if (!stored || stored->is_null())
            continue;
        if (!stored->is_array())
            return type_conflict(operand_field(field, "$remove", name),
                                 fmt::format("{}: $remove needs a list, but {} holds a {}",
                                             operand_field(field, "$remove", name), std::string_view(name),
                                             kind_name(*stored)));
        json::array& list = stored->get_array();
        json::array kept;
        for (auto& element : list) {
            if (element != value)
                kept.push_back(std::move(element));
        }
        list = std::move(kept);
    }
    return std::nullopt;
}

} // namespace

std::optional<api_error> check_contact_properties(const json::object& properties, std::string_view field)
{
    if (const json::value* email = properties.if_contains(email_property)) {
        if (!email->is_null() && !(email->is_string() && is_email_address(email->get_string())))
            return invalid_field(fmt::format("{}.{}", field, email_property),
                                 fmt::format("{}.{} must be an email address like jane@example.com, or null", field,
                                             email_property));
    }
    if (const json::value* phone = properties.if_contains(phone_property)) {
        if (!phone->is_null() && !(phone->is_string() && is_e164_phone(phone->get_string())))
            return invalid_field(fmt::format("{}.{}", field, phone_property),
                                 fmt::format("{}.{} must be an E.164 phone number like +14155550123, or null", field,
                                             phone_property));
    }
    return std::nullopt;
}

result<people_operations> parse_people_operations(const json::object& operations, std::string_view field)
{
    people_operations ops;
    for (const auto& [op, operand] : operations) {
        std::string_view name = op;
        if (name == "$unset") {
            auto names = unset_names(operand, field);
            if (!names)
                return names.error();
            ops.unset = std::move(*names);
            continue;
        }
        static constexpr std::array<std::string_view, 6> map_operations{"$set",    "$set_once", "$add",
                                                                        "$append", "$union",    "$remove"};
        if (std::find(map_operations.begin(), map_operations.end(), name) == map_operations.end())
            return api_error{errc::bad_request, "unknown_operation",
                             fmt::format("{}.{} is not an operation; use $set, $set_once, $add, $append, $union, "
                                         "$remove or $unset",
                                         field, name),
                             fmt::format("{}.{}", field, name)};
        auto operands = operand_map(operand, field, name);
        if (!operands)
            return operands.error();
        if (name == "$set" || name == "$set_once") {
            if (auto bad = check_contact_properties(*operands, fmt::format("{}.{}", field, name)))
                return *bad;
        } else if (auto bad = no_contact_properties(*operands, field, name)) {
            return *bad;
        }
        if (name == "$add" || name == "$union") {
            for (const auto& [property, value] : *operands) {
                bool fits = name == "$add" ? value.is_number() : value.is_array();
                if (!fits)
                    return invalid_field(operand_field(field, name, property),
                                         fmt::format("{} must be {}", operand_field(field, name, property),
                                                     name == "$add" ? "a number" : "a list"));
            }
        }
        if (name == "$set")
            ops.set = std::move(*operands);
        else if (name == "$set_once")
            ops.set_once = std::move(*operands);
        else if (name == "$add")
            ops.add = std::move(*operands);
        else if (name == "$append")
            ops.append = std::move(*operands);
        else if (name == "$union")
            ops.union_values = std::move(*operands);
        else
            ops.remove = std::move(*operands);
    }
    return ops;
}

result<json::object> apply_people_operations(json::object properties, const people_operations& ops,
                                             std::string_view field)
{
    for (const auto& [name, value] : ops.set)
        properties[name] = value;
    for (const auto& [name, value] : ops.set_once) {
        if (!properties.contains(name))
            properties[name] = value;
    }
    if (auto bad = apply_add(properties, ops.add, field))
        return *bad;
    if (auto bad = apply_append(properties, ops.append, field))
        return *bad;
    if (auto bad = apply_union(properties, ops.union_values, field))
        return *bad;
    if (auto bad = apply_remove(properties, ops.remove, field))
        return *bad;
    for (const auto& name : ops.unset)
        properties.erase(name);
    return properties;
}

} // namespace profiled
