#include "common/api_keys.hpp"

#include "common/profiles/ids.hpp"
#include "common/sha256.hpp"

namespace profiled {

generated_key generate_api_key(key_kind kind)
{
    // 40 base62 characters carry about 238 bits: unguessable, so a plain hash is enough to store.
    std::string key = (kind == key_kind::public_key ? "pk_" : "sk_") + random_base62(40);
    return {key, api_key_prefix(key), hash_api_key(key)};
}

std::string hash_api_key(std::string_view key) { return sha256_hex(key); }

std::string api_key_prefix(std::string_view key) { return std::string(key.substr(0, 11)); }

std::optional<api_key_record> find_api_key(store_reader& reader, std::string_view key)
{
    std::string hash = hash_api_key(key);
    auto found = reader.find_key(hash);
    // The lookup is by hash, so its timing says nothing about the key; the check that the row found is the
    // key's own is constant-time anyway, so no later change to the lookup can turn it into a timing oracle.
    if (!found || !constant_time_equal(found->key_hash, hash))
        return std::nullopt;
    return found;
}

} // namespace profiled
