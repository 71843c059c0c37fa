// SHA-256 (FIPS 180-4) and a timing-safe comparison, so secrets such as API keys can be stored as digests.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace profiled {

// SHA-256 computed over bytes that arrive in pieces, e.g. a request body as it streams in.
class sha256_hasher {
public:
    sha256_hasher();
    // Adds the next bytes of the message.
    void update(std::string_view data);
    // The digest of all bytes added, as 32 raw bytes; call once, after the last update().
    std::array<std::uint8_t, 32> finish();
    // finish() as 64 lowercase hex characters.
    std::string finish_hex();

private:
    std::array<std::uint32_t, 8> state_;
    std::array<std::uint8_t, 64> block_{}; // the bytes of an unfinished block
    std::size_t block_size_ = 0;
    std::uint64_t length_ = 0; // bytes added in all
};

// SHA-256 of the bytes, as 32 raw bytes.
std::array<std::uint8_t, 32> sha256(std::string_view data);
// SHA-256 of the bytes, as 64 lowercase hex characters.
std::string sha256_hex(std::string_view data);
// Compares two strings in time that depends only on their lengths, not their contents.
bool constant_time_equal(std::string_view a, std::string_view b);

} // namespace profiled
