#include "common/sha256.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <tuple>

#include <catch2/catch.hpp>

using namespace profiled;

namespace {

// The first n characters of "abc…zabc…", so the padding tests hash distinct, non-uniform bytes.
std::string alphabet_prefix(std::size_t n)
{
    std::string s;
    for (std::size_t i = 0; i < n; ++i)
        s.push_back(static_cast<char>('a' + i % 26));
    return s;
}

} // namespace

TEST_CASE("sha256 matches the NIST FIPS 180-4 example vectors", "[sha256]")
{
    std::string message;
    std::string expected;
    std::tie(message, expected) = GENERATE(table<std::string, std::string>({
        {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
        {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
        {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
        {std::string(1'000'000, 'a'), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"},
    }));
    CAPTURE(message.size());
    REQUIRE(sha256_hex(message) == expected);
}

TEST_CASE("sha256 pads correctly around the 55/56/64-byte block boundaries", "[sha256]")
{
    // Expected digests computed with coreutils sha256sum over the same bytes.
    std::size_t length = 0;
    std::string expected;
    std::tie(length, expected) = GENERATE(table<std::size_t, std::string>({
        {1, "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"},
        {55, "595615dbe4f0f407ae397d08b4c2cb870cb9b0e11937416f950c5160acf9c005"},
        {56, "784f623b787495078e93ff28a25b581df0584055a7e71d8cd90c454716b92f51"},
        {57, "808f0738aa4401bdee842e5a15a7baad5809f976d8eb6f9bd2683cebd2e8d671"},
        {63, "5ca3e1ef5207490eac01a795e5cc94d59582a5118bf9534665c8668d87aa647c"},
        {64, "2fcd5a0d60e4c941381fcc4e00a4bf8be422c3ddfafb93c809e8d1e2bfffae8e"},
        {65, "1b3cd1877ab2f2f19f7be001722554f336cb799df0329de0bb4c118dc6abc06d"},
        {119, "faef67da856d6fd9c8d12f9ed0a4fefd3cf0ce085ab43e2907418d457e3c354b"},
        {120, "c9512b08619c19fbb503c7da6b46ef20301e5f7a7a5f43989182398536f5c5c8"},
        {128, "6c05be2c4268843ae47e68e611277ce62c02153f2f4d2e1e2a1a4b44f766cf74"},
    }));
    CAPTURE(length);
    REQUIRE(sha256_hex(alphabet_prefix(length)) == expected);
}

TEST_CASE("sha256 hashes arbitrary bytes, including NUL and high bytes", "[sha256]")
{
    std::string all_bytes;
    for (int i = 0; i < 256; ++i)
        all_bytes.push_back(static_cast<char>(i));
    // sha256sum of the bytes 0x00..0xff in order.
    REQUIRE(sha256_hex(all_bytes) == "40aff2e9d2d8922e47afd4648e6967497158785fbd1da870e7110266bf944880");
}

TEST_CASE("sha256 raw digest is the bytes that sha256_hex spells out", "[sha256]")
{
    const auto digest = sha256("abc");
    REQUIRE(digest[0] == 0xba);
    REQUIRE(digest[1] == 0x78);
    REQUIRE(digest[30] == 0x15);
    REQUIRE(digest[31] == 0xad);

    std::string rehexed;
    for (std::uint8_t byte : digest) {
        static constexpr char hex_digits[] = "0123456789abcdef";
        rehexed.push_back(hex_digits[byte >> 4]);
        rehexed.push_back(hex_digits[byte & 0x0f]);
    }
    REQUIRE(rehexed == sha256_hex("abc"));
}

TEST_CASE("constant_time_equal agrees with == on every shape of input", "[sha256][constant_time_equal]")
{
    std::string a;
    std::string b;
    bool expected = false;
    std::tie(a, b, expected) = GENERATE(table<std::string, std::string, bool>({
        {"", "", true},
        {"secret-key", "secret-key", true},
        {"secret-key", "Secret-key", false}, // first byte differs
        {"secret-key", "secret-kez", false}, // last byte differs
        {"secret-key", "secret-ke", false},  // b is a prefix of a
        {"secret", "secret-key", false},     // a is a prefix of b
        {"", "x", false},
        {"x", "", false},
        {std::string("a\0b", 3), std::string("a\0c", 3), false}, // embedded NUL does not end the comparison
        {std::string("a\0b", 3), std::string("a\0b", 3), true},
    }));
    CAPTURE(a, b);
    REQUIRE(constant_time_equal(a, b) == expected);
    REQUIRE(constant_time_equal(b, a) == expected);
}
