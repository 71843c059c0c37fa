#include "common/profiles/profile.hpp"

namespace profiled {

// The name of a key kind as shown and stored.
const char* key_kind_name(key_kind kind) { return kind == key_kind::public_key ? "public" : "secret"; }

} // namespace profiled
