// valid_utf8: what goes back to clients in JSON is always well-formed UTF-8.
#include <string>
#include <tuple>

#include <catch2/catch.hpp>

#include "common/formats/utf8.hpp"

using profiled::valid_utf8;

TEST_CASE("valid_utf8 keeps well-formed text and replaces each ill-formed byte", "[utf8]")
{
    std::string in, out;
    std::tie(in, out) = GENERATE(table<std::string, std::string>({
        {"", ""},
        {"users.ndjson", "users.ndjson"},
        {"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80", "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"},
        {"a\x01\x7f", "a\x01\x7f"}, // control characters are valid UTF-8; the serializer escapes them
        {"\xFF", "\xEF\xBF\xBD"},
        {"a\x80" "b", "a\xEF\xBF\xBD" "b"},
        {"\xC0\xAF", "\xEF\xBF\xBD\xEF\xBF\xBD"},                 // overlong '/'
        {"\xE0\x80\xAF", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"}, // overlong, three bytes
        {"\xED\xA0\x80", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"}, // a UTF-16 surrogate
        {"\xF4\x90\x80\x80", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"}, // past U+10FFFF
        {"\xE2\x82", "\xEF\xBF\xBD\xEF\xBF\xBD"},                 // cut short at the end
        {"\xF4\x8F\xBF\xBF", "\xF4\x8F\xBF\xBF"},                 // U+10FFFF itself
    }));
    CAPTURE(in);
    CHECK(valid_utf8(in) == out);
    CHECK(valid_utf8(out) == out);
}
