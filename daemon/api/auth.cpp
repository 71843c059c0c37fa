#include "daemon/api/auth.hpp"

#include <algorithm>
#include <cctype>
#include <memory>

#include <fmt/format.h>

#include "common/api_keys.hpp"

namespace profiled {

namespace {
api_error unauthorized(std::string message) { return {errc::unauthorized, "unauthorized", std::move(message), {}}; }
} // namespace

std::optional<api_key_record> key_cache::find(std::string_view key)
{
    check_for_changes();
    // Found by the key's hash, as in the store: the lookup's timing says nothing about the key.
    std::string hash = hash_api_key(key);
    if (auto known = by_hash_.find(hash); known != by_hash_.end())
        return known->second;
    // Read after the version it is held against, so never older than the last look for changes.
    auto found = find_api_key(reader_, key);
    if (found) {
        if (by_hash_.size() >= max_keys)
            by_hash_.clear();
        by_hash_.emplace(std::move(hash), *found);
    }
    return found;
}

void key_cache::check_for_changes()
{
    std::uint64_t version = reader_.key_version();
    if (seen_version_ != version)
        by_hash_.clear();
    seen_version_ = version;
}

key_cache& key_cache_of(store_reader& reader)
{
    // Each reader belongs to one thread, so each thread keeps the cache of the reader it authenticates with.
    thread_local std::unique_ptr<key_cache> cache;
    if (!cache || &cache->reader() != &reader)
        cache = std::make_unique<key_cache>(reader);
    return *cache;
}

// The live key given as text.
result<api_key_record> authenticate_key(store_reader& reader, std::string_view key)
{
    if (key.empty())
        return unauthorized("an API key is required");
    auto found = key_cache_of(reader).find(key);
    if (!found)
        return unauthorized("unknown API key");
    if (found->revoked_at)
        return unauthorized("this API key has been revoked");
    return std::move(*found);
}

// The live key named by an Authorization header.
result<api_key_record> authenticate_header(store_reader& reader, std::string_view authorization)
{
    if (authorization.empty())
        return unauthorized("missing Authorization header; send 'Authorization: Token YOUR_API_KEY'");
    auto space = authorization.find(' ');
    if (space == std::string_view::npos)
        return unauthorized("malformed Authorization header; expected 'Token KEY' or 'Bearer KEY'");
    std::string_view scheme = authorization.substr(0, space);
    std::string_view key = authorization.substr(space + 1);
    while (!key.empty() && key.front() == ' ')
        key.remove_prefix(1);
    while (!key.empty() && key.back() == ' ')
        key.remove_suffix(1);
    auto equals_ci = [](std::string_view a, std::string_view b) {
        return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
                   return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
               });
    };
    if (!equals_ci(scheme, "token") && !equals_ci(scheme, "bearer"))
        return unauthorized("unsupported Authorization scheme; use 'Token KEY' or 'Bearer KEY'");
    return authenticate_key(reader, key);
}

// A 403 unless the key is a secret key.
std::optional<api_error> require_secret(const api_key_record& key, std::string_view endpoint)
{
    if (key.kind == key_kind::secret)
        return std::nullopt;
    return api_error{errc::forbidden, "forbidden",
                     fmt::format("{} requires a secret key (sk_...); public keys may only call POST /public/identify",
                                 endpoint),
                     {}};
}

} // namespace profiled
