// The People API's write step on a loaded profile: apply a request's operations to it.
#pragma once

#include <cstdint>

#include "common/profiles/people_operations.hpp"
#include "common/profiles/profile.hpp"

namespace profiled {

// The profile after applying ops at time now. When $email / $phone change, the profile's email / phone follow
// (null or unset clears them). A 400 when an operation does not fit: the stored profile stays as it was.
result<user_profile> apply_people_update(user_profile profile, const people_operations& ops, std::int64_t now);

} // namespace profiled
