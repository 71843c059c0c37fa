// The People API's profile operations ($set, $set_once, $add, $append, $union, $remove, $unset):
// pure functions on a profile's properties, so they can be tested and fuzzed without a store.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "common/profiles/requests.hpp"

namespace profiled {

// One request's operations, each a map of property name to operand (a list of names for $unset).
struct people_operations {
    boost::json::object set;          // $set: overwrite
    boost::json::object set_once;     // $set_once: only where the property is absent
    boost::json::object add;          // $add: numbers added to the property (absent or null counts as 0)
    boost::json::object append;       // $append: the value appended as one element of a list
    boost::json::object union_values; // $union: the list's elements appended where not already present
    boost::json::object remove;       // $remove: every element equal to the value removed from a list
    std::vector<std::string> unset;   // $unset: properties deleted
};

// The properties that also fill the profile's top-level contact fields.
inline constexpr std::string_view email_property = "$email";
inline constexpr std::string_view phone_property = "$phone";

// Checks $email / $phone in properties about to be written: each a valid address / E.164 number, or null.
// field is the name of the properties object in the request, for error details ("properties.$email").
std::optional<api_error> check_contact_properties(const boost::json::object& properties, std::string_view field);

// Validates the request's operations object (named field in error details) and sorts it by operation.
// An unknown operation, an operand of the wrong type, or $email / $phone in a list or number
// operation is a 400.
result<people_operations> parse_people_operations(const boost::json::object& operations,
                                                  std::string_view field = "operations");

// The properties after applying ops in the documented order: $set, $set_once, $add, $append, $union,
// $remove, $unset. An operation that does not fit the stored value ($add on a string, $append on a
// scalar, ...) is a 400 and nothing is applied: the caller keeps its properties unchanged.
result<boost::json::object> apply_people_operations(boost::json::object properties, const people_operations& ops,
                                                    std::string_view field = "operations");

} // namespace profiled
