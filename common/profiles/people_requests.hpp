// Validation of the People API's bodies (POST /public/identify, /public/people/set, /public/alias).
#pragma once

#include <string>

#include <boost/json/object.hpp>

#include "common/profiles/people_operations.hpp"
#include "common/profiles/requests.hpp"

namespace profiled {

// The apiKey field of a People API body: absent, null or empty is a 401, another type a 400.
result<std::string> body_api_key(const boost::json::object& body);

// POST /public/identify and /public/people/set: whose profile, and what to do to it.
// /public/identify's properties become a $set.
struct people_update {
    std::string distinct_id;
    people_operations operations;
};

// POST /public/identify: distinct_id, properties{} ($email / $phone valid or null).
result<people_update> parse_people_identify(const boost::json::object& body);
// POST /public/people/set: distinct_id, operations{} (required).
result<people_update> parse_people_set(const boost::json::object& body);

// POST /public/alias: original_id (anonymous) is to resolve to alias_id (permanent).
struct alias_request {
    std::string alias_id;
    std::string original_id;
};
// Both ids required and different.
result<alias_request> parse_alias(const boost::json::object& body);

} // namespace profiled
