// API keys: generation, hashing, recognising their kind.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/profiles/profile.hpp"
#include "common/store/store.hpp"

namespace profiled {

// A freshly made key: the key itself (shown once) and what is stored of it.
struct generated_key {
    std::string key;
    std::string prefix;
    std::string key_hash;
};

// A new random key of the kind: "sk_" or "pk_" and 40 base62 characters.
generated_key generate_api_key(key_kind kind);
// What is stored and looked up for a key: its SHA-256 in hex.
std::string hash_api_key(std::string_view key);
// The part of a key that is safe to show and to revoke by: prefix and 8 characters.
std::string api_key_prefix(std::string_view key);
// The stored record of key, revoked or not: looked up by the key's hash (the key itself never reaches the store)
// and the stored hash compared again with constant_time_equal. Nothing when no record matches.
std::optional<api_key_record> find_api_key(store_reader& reader, std::string_view key);

} // namespace profiled
