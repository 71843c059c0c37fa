// UTF-8 repair for text that came from the client's bytes and goes back out in JSON.
#pragma once

#include <string>
#include <string_view>

namespace profiled {

// text with every byte that is not part of a well-formed UTF-8 sequence (RFC 3629: no overlong
// forms, no surrogates, nothing past U+10FFFF) replaced by U+FFFD; valid text comes back unchanged.
std::string valid_utf8(std::string_view text);

// Whether text is well-formed UTF-8 in that sense (what valid_utf8 would leave unchanged).
bool is_valid_utf8(std::string_view text);

} // namespace profiled
