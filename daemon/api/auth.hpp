// Who is calling: API keys from the Authorization header or the JSON body.
#pragma once

#include <string_view>

#include "common/profiles/requests.hpp"
#include "common/store/store.hpp"

namespace profiled {

// The live key named by an "Authorization: Token KEY" or "Bearer KEY" header.
result<api_key_record> authenticate_header(store_reader& reader, std::string_view authorization);
// The live key given as text (the People API's apiKey field).
result<api_key_record> authenticate_key(store_reader& reader, std::string_view key);
// A 403 unless the key is a secret key.
std::optional<api_error> require_secret(const api_key_record& key, std::string_view endpoint);

} // namespace profiled
