// The page cursors the engines hand out for profile listings: opaque to clients, a position to the engine.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace profiled {

// What a cursor pages; its letter keeps a users cursor from being taken for a companies one (or a webhook's
// attempts).
enum class cursor_kind : char { users = 'u', companies = 'c', webhook_attempts = 'a' };

// The cursor of a page that ends at the row with this internal id.
std::string encode_page_cursor(cursor_kind kind, std::int64_t last_id);
// The internal id a cursor of this kind ends at, or nothing for any text encode_page_cursor did not make.
std::optional<std::int64_t> decode_page_cursor(cursor_kind kind, const std::string& cursor);

} // namespace profiled
