// Wall-clock time as stored in the database and shown to clients.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace profiled {

// Milliseconds since the Unix epoch, now.
std::int64_t now_ms();
// RFC 3339 UTC with millisecond precision, e.g. 2025-02-02T12:34:56.789Z.
std::string format_rfc3339(std::int64_t epoch_ms);
// Milliseconds since the Unix epoch of an RFC 3339 date-time (2025-02-02T12:34:56Z, with optional fraction and a Z
// or +hh:mm offset; digits past milliseconds are cut), or nothing when the text is not one.
std::optional<std::int64_t> parse_rfc3339(std::string_view text);

} // namespace profiled
