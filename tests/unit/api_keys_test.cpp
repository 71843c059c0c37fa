// API keys: their shape, their stored hash and the prefix shown and revoked by.
#include <set>
#include <string>
#include <tuple>

#include <catch2/catch.hpp>

#include "common/api_keys.hpp"
#include "common/sha256.hpp"

using namespace profiled;

namespace {
constexpr const char* base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
}

TEST_CASE("generated keys carry their kind's prefix and 40 random base62 characters", "[keys]")
{
    key_kind kind;
    std::string prefix;
    std::tie(kind, prefix) = GENERATE(table<key_kind, std::string>({
        {key_kind::secret, "sk_"},
        {key_kind::public_key, "pk_"},
    }));
    CAPTURE(prefix);

    generated_key k = generate_api_key(kind);
    REQUIRE(k.key.size() == 43);
    CHECK(k.key.rfind(prefix, 0) == 0);
    CHECK(k.key.find_first_not_of(base62, 3) == std::string::npos);

    SECTION("only the hash is meant for storage: sha256 of the key in lowercase hex")
    {
        CHECK(k.key_hash == sha256_hex(k.key));
        CHECK(k.key_hash.size() == 64);
        CHECK(k.key_hash.find_first_not_of("0123456789abcdef") == std::string::npos);
        CHECK(k.key_hash.find(k.key.substr(3)) == std::string::npos);
    }
    SECTION("the shown prefix is the kind and 8 characters, never the whole key")
    {
        CHECK(k.prefix == k.key.substr(0, 11));
        CHECK(k.prefix == api_key_prefix(k.key));
    }
    SECTION("keys do not repeat")
    {
        std::set<std::string> keys{k.key};
        for (int i = 0; i < 200; ++i)
            keys.insert(generate_api_key(kind).key);
        CHECK(keys.size() == 201);
    }
}

TEST_CASE("a key's hash is stable and distinguishes every character", "[keys]")
{
    CHECK(hash_api_key("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    std::string key = generate_api_key(key_kind::secret).key;
    CHECK(hash_api_key(key) == hash_api_key(std::string(key)));
    std::string changed = key;
    changed.back() = changed.back() == 'a' ? 'b' : 'a';
    CHECK(hash_api_key(changed) != hash_api_key(key));
}

TEST_CASE("the prefix of short and long texts", "[keys]")
{
    std::string text, expected;
    std::tie(text, expected) = GENERATE(table<std::string, std::string>({
        {"sk_AbCdEfGhIjKl", "sk_AbCdEfGh"},
        {"sk_AbCdEfGh", "sk_AbCdEfGh"},
        {"sk_AbC", "sk_AbC"},
        {"", ""},
    }));
    CAPTURE(text);
    CHECK(api_key_prefix(text) == expected);
}

TEST_CASE("constant_time_equal agrees with ==", "[keys]")
{
    std::string a, b;
    std::tie(a, b) = GENERATE(table<std::string, std::string>({
        {"", ""},
        {"abc", "abc"},
        {"abc", "abd"},
        {"abc", "ab"},
        {"", "a"},
    }));
    CAPTURE(a, b);
    CHECK(constant_time_equal(a, b) == (a == b));
}
