// Who is calling: API keys from the Authorization header or the JSON body.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include <boost/asio/awaitable.hpp>

#include "common/profiles/requests.hpp"
#include "common/store/store.hpp"

namespace profiled {

// Keys found recently, by their hash, so that most requests authenticate without a key lookup. All are
// forgotten once the store's key version moves (asked on every request, and cheap: a counter in memory that the
// engine keeps), so a key revoked or created by another process (profiled keys ...) counts on the very next request. A key with no row is never remembered,
// and at most max_keys are. Used on its reader's thread.
class key_cache {
public:
    static constexpr std::size_t max_keys = 10000;

    // What the cache holds for a key: its record, or nothing and the key version a lookup elsewhere hands back.
    struct recalled {
        std::optional<api_key_record> record;
        std::uint64_t version = 0;
    };

    explicit key_cache(store_reader& reader) : reader_(reader) {}
    // The stored record of key, revoked or not (as find_api_key gives it), from memory when it can be.
    std::optional<api_key_record> find(std::string_view key);
    // The record of key from memory, once any key change is accounted for; no lookup.
    recalled recall(std::string_view key);
    // Remembers the record of key that a lookup elsewhere found after recall handed out version; not when a key
    // changed since (the record may predate the change).
    void remember(std::string_view key, const api_key_record& record, std::uint64_t version);
    // The reader the keys are looked up in.
    store_reader& reader() const { return reader_; }
    // How many keys are remembered.
    std::size_t size() const { return by_key_.size(); }

private:
    // Forgets every key if any key changed since the last look.
    void check_for_changes();

    store_reader& reader_;
    // Hashes a presented key for the map, so that a lookup takes the header's string_view as it is.
    struct key_hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view key) const { return std::hash<std::string_view>{}(key); }
    };
    // By the key as presented (exactly: the map compares whole keys), found keys only, so a client trying keys
    // adds nothing. The store holds only SHA-256 hashes; hashing each request's key again was a tenth of a status
    // poll's time on the io thread.
    std::unordered_map<std::string, api_key_record, key_hash, std::equal_to<>> by_key_;
    std::optional<std::uint64_t> seen_version_;
};

// The key cache this thread keeps for reader (made on first use; the daemon authenticates through one reader).
key_cache& key_cache_of(store_reader& reader);

class reader_pool;

// The live key named by an "Authorization: Token KEY" or "Bearer KEY" header: from the key cache on this (the
// io) thread, a key it does not hold looked up on a reader thread. authorization must outlive the coroutine.
boost::asio::awaitable<result<api_key_record>> authenticate_header(key_cache& cache, reader_pool& lookups,
                                                                   std::string_view authorization);
// The live key given as text (the People API's apiKey field), as authenticate_header finds it.
boost::asio::awaitable<result<api_key_record>> authenticate_key(key_cache& cache, reader_pool& lookups,
                                                                std::string_view key);
// A 403 unless the key is a secret key.
std::optional<api_error> require_secret(const api_key_record& key, std::string_view endpoint);

} // namespace profiled
