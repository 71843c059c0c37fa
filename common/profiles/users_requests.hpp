// Validation of the Users API's body (POST /v1/users).
#pragma once

#include <boost/json/object.hpp>

#include "common/profiles/profile.hpp"
#include "common/profiles/requests.hpp"

namespace profiled {

// POST /v1/users: user_id, email (an address), phone (E.164), properties{}, origin{};
// null email or phone counts as not given.
result<user_change> parse_users_request(const boost::json::object& body);

} // namespace profiled
