// Wall-clock time as stored in the database and shown to clients.
#pragma once

#include <cstdint>
#include <string>

namespace profiled {

// Milliseconds since the Unix epoch, now.
std::int64_t now_ms();
// RFC 3339 UTC with millisecond precision, e.g. 2025-02-02T12:34:56.789Z.
std::string format_rfc3339(std::int64_t epoch_ms);

} // namespace profiled
