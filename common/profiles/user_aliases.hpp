// The alias write step: make an anonymous id resolve to a permanent one, merging their profiles.
#pragma once

#include <cstdint>
#include <string>

#include "common/store/store.hpp"

namespace profiled {

// Makes original_id (anonymous) resolve to the user alias_id resolves to, for every later read and write.
// If both have profiles, the anonymous one is merged in set-once and removed; if only the anonymous one
// has a profile, that profile (internal id and all) moves to the permanent id. Ids that resolved to
// original_id follow it, so chains stay one step long. Repeating an alias is a no-op.
// Throws api_exception: 400 for the same id twice, 409 when original_id is already an alias of another
// user or when alias_id resolves to original_id (a cycle).
void alias_user(store_writer& w, std::int64_t project_id, const std::string& alias_id,
                const std::string& original_id, std::int64_t now);

} // namespace profiled
