// SHA-256 (FIPS 180-4) and a timing-safe comparison, so secrets such as API keys can be stored as digests.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace profiled {

// SHA-256 of the bytes, as 32 raw bytes.
std::array<std::uint8_t, 32> sha256(std::string_view data);
// SHA-256 of the bytes, as 64 lowercase hex characters.
std::string sha256_hex(std::string_view data);
// Compares two strings in time that depends only on their lengths, not their contents.
bool constant_time_equal(std::string_view a, std::string_view b);

} // namespace profiled
