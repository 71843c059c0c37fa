#include "daemon/api/auth.hpp"

#include <algorithm>
#include <cctype>
#include <memory>

#include <fmt/format.h>

#include "common/api_keys.hpp"
#include "common/ops/project_names.hpp"
#include "daemon/serve/reader_pool.hpp"

namespace profiled {

namespace {
api_error unauthorized(std::string message) { return {errc::unauthorized, "unauthorized", std::move(message), {}}; }
} // namespace

std::optional<api_key_record> key_cache::find(std::string_view key)
{
    auto known = recall(key);
    if (known.record)
        return known.record;
    // Read after the version it is held against, so never older than the last look for changes.
    auto found = find_api_key(reader_, key);
    if (found)
        remember(key, *found, known.version);
    return found;
}

key_cache::recalled key_cache::recall(std::string_view key)
{
    check_for_changes();
    if (auto known = by_key_.find(key); known != by_key_.end())
        return {known->second, *seen_version_};
    return {std::nullopt, *seen_version_};
}

void key_cache::remember(std::string_view key, const api_key_record& record, std::uint64_t version)
{
    if (seen_version_ != version)
        return;
    if (by_key_.size() >= max_keys)
        by_key_.clear();
    by_key_.emplace(std::string(key), record);
}

void key_cache::check_for_changes()
{
    std::uint64_t version = reader_.key_version();
    if (seen_version_ != version)
        by_key_.clear();
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

boost::asio::awaitable<result<api_key_record>> authenticate_key(key_cache& cache, reader_pool& lookups,
                                                                std::string_view key)
{
    if (key.empty())
        co_return unauthorized("an API key is required");
    auto known = cache.recall(key);
    std::optional<api_key_record> found = std::move(known.record);
    if (!found) {
        auto lookup = lookups.run([key = std::string(key)](store_reader& r) { return find_api_key(r, key); });
        found = co_await std::move(lookup);
        if (found)
            cache.remember(key, *found, known.version);
    }
    if (!found)
        co_return unauthorized("unknown API key");
    if (found->revoked_at)
        co_return unauthorized("this API key has been revoked");
    known_projects().remember(found->project_id, found->project);
    co_return std::move(*found);
}

boost::asio::awaitable<result<api_key_record>> authenticate_header(key_cache& cache, reader_pool& lookups,
                                                                   std::string_view authorization)
{
    if (authorization.empty())
        co_return unauthorized("missing Authorization header; send 'Authorization: Token YOUR_API_KEY'");
    auto space = authorization.find(' ');
    if (space == std::string_view::npos)
        co_return unauthorized("malformed Authorization header; expected 'Token KEY' or 'Bearer KEY'");
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
        co_return unauthorized("unsupported Authorization scheme; use 'Token KEY' or 'Bearer KEY'");
    co_return co_await authenticate_key(cache, lookups, key);
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
