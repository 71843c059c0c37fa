#include "common/store/page_cursor.hpp"

#include <charconv>

namespace profiled {

std::string encode_page_cursor(cursor_kind kind, std::int64_t last_id)
{
    return std::string(1, static_cast<char>(kind)) + std::to_string(last_id);
}

std::optional<std::int64_t> decode_page_cursor(cursor_kind kind, const std::string& cursor)
{
    // Digits only after the letter: no sign, no spaces, so each position has exactly one cursor.
    if (cursor.size() < 2 || cursor[0] != static_cast<char>(kind) || cursor[1] < '0' || cursor[1] > '9')
        return std::nullopt;
    std::int64_t position = 0;
    const char* end = cursor.data() + cursor.size();
    auto [at, ec] = std::from_chars(cursor.data() + 1, end, position);
    if (ec != std::errc() || at != end || position < 1)
        return std::nullopt;
    return position;
}

} // namespace profiled
