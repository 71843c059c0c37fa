// The key cache: repeated requests authenticate from memory, a change to any key is seen on the next request,
// and unknown keys are never remembered.
#include <map>
#include <string>

#include <catch2/catch.hpp>

#include "common/api_keys.hpp"
#include "daemon/api/auth.hpp"
#include "tests/support/keys_only_reader.hpp"

using namespace profiled;

namespace {

// A store holding some key rows, counting its key lookups, whose key version the test moves.
class counting_reader final : public test::keys_only_reader {
public:
    std::map<std::string, api_key_record> rows; // by hash
    int lookups = 0;
    int version_reads = 0;
    std::uint64_t version = 1;

    std::optional<api_key_record> find_key(const std::string& key_hash) override
    {
        ++lookups;
        auto it = rows.find(key_hash);
        if (it == rows.end())
            return std::nullopt;
        return it->second;
    }
    std::uint64_t key_version() override
    {
        ++version_reads;
        return version;
    }

    // Stores a live key row for key and returns the key.
    std::string add(const std::string& key)
    {
        api_key_record r;
        r.id = static_cast<std::int64_t>(rows.size()) + 1;
        r.project_id = 3;
        r.prefix = api_key_prefix(key);
        r.key_hash = hash_api_key(key);
        rows[r.key_hash] = r;
        return key;
    }
};


} // namespace

TEST_CASE("a key found once is answered from memory, each request costing one key-version read", "[keys][cache]")
{
    counting_reader reader;
    std::string key = reader.add(generate_api_key(key_kind::secret).key);
    key_cache cache(reader);

    for (int i = 0; i < 5; ++i) {
        auto found = cache.find(key);
        REQUIRE(found);
        CHECK(found->id == 1);
    }
    CHECK(reader.lookups == 1);
    CHECK(reader.version_reads == 5);

    SECTION("a change to some other key forgets it: looked up once more")
    {
        ++reader.version;
        REQUIRE(cache.find(key));
        CHECK(reader.lookups == 2);
    }
}

TEST_CASE("a key revoked in the database is seen as revoked on the next request", "[keys][cache]")
{
    counting_reader reader;
    std::string key = reader.add(generate_api_key(key_kind::secret).key);
    key_cache cache(reader);
    REQUIRE_FALSE(cache.find(key)->revoked_at);

    // Another process revokes it and commits: the key version moves.
    reader.rows.begin()->second.revoked_at = 123;
    ++reader.version;

    SECTION("the key is looked up again and found revoked")
    {
        auto found = cache.find(key);
        REQUIRE(found);
        CHECK(found->revoked_at == 123);
        CHECK(reader.lookups == 2);
    }
    SECTION("a key removed altogether is gone too")
    {
        reader.rows.clear();
        CHECK_FALSE(cache.find(key));
        CHECK(cache.size() == 0);
    }
}

TEST_CASE("unknown keys are looked up every time and never remembered", "[keys][cache]")
{
    counting_reader reader;
    std::string known = reader.add(generate_api_key(key_kind::secret).key);
    key_cache cache(reader);
    REQUIRE(cache.find(known));

    for (int i = 0; i < 1000; ++i)
        CHECK_FALSE(cache.find(generate_api_key(key_kind::secret).key));
    CHECK(cache.size() == 1);
    CHECK(reader.lookups == 1001);

    // A key created meanwhile works on its first request.
    std::string fresh = reader.add(generate_api_key(key_kind::public_key).key);
    ++reader.version;
    CHECK(cache.find(fresh));
}

TEST_CASE("the cache never holds more than max_keys keys", "[keys][cache]")
{
    counting_reader reader;
    std::vector<std::string> keys;
    for (std::size_t i = 0; i < key_cache::max_keys + 10; ++i)
        keys.push_back(reader.add("sk_" + std::to_string(i)));
    key_cache cache(reader);
    for (const auto& key : keys)
        REQUIRE(cache.find(key));
    CHECK(cache.size() <= key_cache::max_keys);
    CHECK(cache.size() >= 1);
}

TEST_CASE("each reader has its own cache", "[keys][cache]")
{
    counting_reader a, b;
    std::string key = a.add(generate_api_key(key_kind::secret).key);
    CHECK(&key_cache_of(a) == &key_cache_of(a));
    CHECK(&key_cache_of(a).reader() == &a);
    REQUIRE(key_cache_of(a).find(key));
    // The same key is not b's: nothing remembered for a leaks into b.
    CHECK_FALSE(key_cache_of(b).find(key));
    CHECK(b.lookups == 1);
}

TEST_CASE("a key looked up elsewhere is remembered only when no key changed during the lookup", "[keys][cache]")
{
    counting_reader reader;
    std::string key = reader.add(generate_api_key(key_kind::secret).key);
    key_cache cache(reader);

    // A miss hands out the version its lookup (on a reader thread) is held against.
    auto missed = cache.recall(key);
    REQUIRE_FALSE(missed.record);
    api_key_record live = reader.rows.begin()->second;

    SECTION("nothing changed: the record is remembered and recalled from memory")
    {
        cache.remember(key, live, missed.version);
        auto again = cache.recall(key);
        REQUIRE(again.record);
        CHECK(again.record->id == live.id);
        CHECK(reader.lookups == 0);
    }
    SECTION("the key was revoked while the lookup ran: its live record is not remembered")
    {
        reader.rows.begin()->second.revoked_at = 123;
        ++reader.version;
        CHECK_FALSE(cache.recall(key).record); // another request saw the change meanwhile
        cache.remember(key, live, missed.version);
        CHECK_FALSE(cache.recall(key).record);
        CHECK(cache.find(key)->revoked_at == 123);
    }
}
