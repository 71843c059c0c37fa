// The People API's write step: apply a request's operations to the profile its distinct_id resolves to.
#pragma once

#include <cstdint>
#include <string>

#include "common/profiles/people_operations.hpp"
#include "common/store/store.hpp"

namespace profiled {

// Applies ops to the user distinct_id resolves to (following aliases), creating the profile when new.
// When $email / $phone change, the profile's email / phone follow (null or unset clears them).
// Throws api_exception, for the writer to roll the request back, when an operation does not fit.
void apply_people_update(store_writer& w, std::int64_t project_id, const std::string& distinct_id,
                         const people_operations& ops, std::int64_t now);

} // namespace profiled
