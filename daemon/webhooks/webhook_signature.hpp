// The Profiled-Signature a delivery carries, so the receiver can tell it came from this daemon unchanged.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace profiled {

// Lowercase hex of HMAC-SHA256(key, message).
std::string hmac_sha256_hex(std::string_view key, std::string_view message);
// The header's value, "t=UNIX,v1=HEX" with HEX = hmac_sha256_hex(secret, t + "." + body).
std::string webhook_signature(std::string_view secret, std::int64_t unix_seconds, std::string_view body);

} // namespace profiled
