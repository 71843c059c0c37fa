// Validation of request bodies: JSON text in, a typed change or a precise api_error out.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>
#include <boost/system/result.hpp>

#include "common/api_error.hpp"
#include "common/profiles/profile.hpp"

namespace profiled {

template <typename T>
using result = boost::system::result<T, api_error>;

// The longest id (user, company, alias) accepted, in bytes.
inline constexpr std::size_t max_id_bytes = 255;
// The deepest JSON nesting accepted in any request body.
inline constexpr int max_json_depth = 32;

// Parses a request body that must be one JSON object, into memory (the default heap unless given); a number it
// would read as another (an integer beyond 64 bits, 1e400, 1e-400) is refused with number_out_of_range.
result<boost::json::object> parse_json_object(std::string_view body, boost::json::storage_ptr memory = {});

// A required id field: a non-empty string of at most max_id_bytes.
result<std::string> required_id(const boost::json::object& body, std::string_view field);
// An optional id field: absent or null gives nothing; otherwise as required_id.
result<std::optional<std::string>> optional_id(const boost::json::object& body, std::string_view field);
// An optional object field: absent gives {}, null gives {}, anything else but an object is an error.
result<boost::json::object> optional_object(const boost::json::object& body, std::string_view field);
// The same, moving the object out of body (an empty object stays in its place) instead of copying it.
result<boost::json::object> take_object(boost::json::object& body, std::string_view field);

// POST /v1/identify: the user's change and, when a company object is given, the company's.
struct identify_request {
    user_change user;
    std::optional<company_change> company;
};
// Each of these parsers moves the objects it returns (metadata, the company) out of the body it is given.
result<identify_request> parse_identify(boost::json::object& body);

// POST /v1/companies/identify.
result<company_change> parse_company_identify(boost::json::object& body);

// One row of a users bulk job: user_id, company_id, metadata of primitives.
result<user_change> parse_bulk_user_row(boost::json::object& row);
// One row of a companies bulk job: company_id, metadata of primitives.
result<company_change> parse_bulk_company_row(boost::json::object& row);

} // namespace profiled
