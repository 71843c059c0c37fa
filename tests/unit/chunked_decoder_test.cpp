#include "daemon/http/chunked_decoder.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

using profiled::chunked_decoder;
using status = chunked_decoder::status;
using namespace std::string_literals;

namespace {

// A status as text, so failed checks print something readable.
std::string name_of(status s)
{
    switch (s) {
    case status::more: return "more";
    case status::done: return "done";
    case status::bad_framing: return "bad_framing";
    case status::framing_limit: return "framing_limit";
    case status::body_limit: return "body_limit";
    }
    return "?";
}

// What decoding one input produced.
struct outcome {
    std::string status;
    std::string body;
    std::size_t consumed = 0; // over all feeds
    std::string reason;
};

// Feeds input to a fresh decoder in the given pieces (their sizes; the rest goes in one last feed) and
// stops at the first status other than `more`.
outcome decode(std::string_view input, const std::vector<std::size_t>& pieces = {}, std::size_t budget = 16384,
               std::uint64_t limit = 1024 * 1024)
{
    chunked_decoder d(budget, limit);
    outcome out;
    std::size_t at = 0;
    status s = status::more;
    auto feed = [&](std::size_t n) {
        std::size_t consumed = 0;
        s = d.feed(input.substr(at, n), out.body, consumed);
        REQUIRE(consumed <= std::min(n, input.size() - at));
        if (s == status::more)
            REQUIRE(consumed == std::min(n, input.size() - at));
        out.consumed += consumed;
        at += std::min(n, input.size() - at);
    };
    for (std::size_t n : pieces) {
        feed(n);
        if (s != status::more)
            break;
    }
    if (s == status::more)
        feed(input.size() - at);
    out.status = name_of(s);
    out.reason = std::string(d.reason());
    REQUIRE(d.body_bytes() == out.body.size());
    return out;
}

// Decodes input byte by byte.
outcome decode_bytewise(std::string_view input, std::size_t budget = 16384, std::uint64_t limit = 1024 * 1024)
{
    return decode(input, std::vector<std::size_t>(input.size(), 1), budget, limit);
}

} // namespace

TEST_CASE("valid chunked bodies decode the same however they are split", "[chunked]")
{
    std::string input;
    std::string expected;
    std::tie(input, expected) = GENERATE(table<std::string, std::string>({
        {"0\r\n\r\n", ""},
        {"5\r\nhello\r\n0\r\n\r\n", "hello"},
        {"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", "hello world"},
        {"A\r\n0123456789\r\na\r\nabcdefghij\r\n0\r\n\r\n", "0123456789abcdefghij"},
        {"000005\r\nhello\r\n000\r\n\r\n", "hello"},
        {"3\r\n\r\n\n\r\n0\r\n\r\n", "\r\n\n"},
        {"4\r\n\x00\xff\x01\x7f\r\n0\r\n\r\n"s, "\x00\xff\x01\x7f"s},
        // Extensions are read and dropped.
        {"5;name\r\nhello\r\n0\r\n\r\n", "hello"},
        {"5;a=b;c=d\r\nhello\r\n0;last=yes\r\n\r\n", "hello"},
        {"5;a=\"quoted; value \\\" with\tescapes\"\r\nhello\r\n0\r\n\r\n", "hello"},
        {"5 ;a = b\t; c\r\nhello\r\n0\r\n\r\n", "hello"},
        {"5;a=\"\"\r\nhello\r\n0\r\n\r\n", "hello"},
        // Trailers are read and dropped.
        {"5\r\nhello\r\n0\r\nExpires: never\r\n\r\n", "hello"},
        {"5\r\nhello\r\n0\r\nA: 1\r\nB:\r\nC:\tx y \xff\r\n\r\n", "hello"},
        {"5;e=1\r\nhello\r\n0;e=2\r\nX-Checksum: abc\r\n\r\n", "hello"},
    }));
    CAPTURE(input);
    auto whole = decode(input);
    CHECK(whole.status == "done");
    CHECK(whole.body == expected);
    CHECK(whole.consumed == input.size());
    auto bytes = decode_bytewise(input);
    CHECK(bytes.status == "done");
    CHECK(bytes.body == expected);
    CHECK(bytes.consumed == input.size());
    for (std::size_t split = 0; split <= input.size(); ++split) {
        CAPTURE(split);
        auto two = decode(input, {split});
        REQUIRE(two.status == "done");
        REQUIRE(two.body == expected);
        REQUIRE(two.consumed == input.size());
        for (std::size_t second = 1; split + second < input.size(); ++second) {
            CAPTURE(second);
            auto three = decode(input, {split, second});
            REQUIRE(three.status == "done");
            REQUIRE(three.body == expected);
        }
    }
}

TEST_CASE("a large chunk is decoded whole", "[chunked]")
{
    std::string data(1024 * 1024, 'x');
    for (std::size_t i = 0; i < data.size(); i += 4097)
        data[i] = static_cast<char>('a' + i % 26);
    std::string input = "100000\r\n" + data + "\r\n0\r\n\r\n";
    auto whole = decode(input, {}, 16384, data.size());
    CHECK(whole.status == "done");
    CHECK(whole.body == data);
    auto pieces = decode(input, {3, 70000, 1, 500000, 9});
    CHECK(pieces.status == "done");
    CHECK(pieces.body == data);
}

TEST_CASE("a bare LF where a CRLF is due is bad framing", "[chunked]")
{
    std::string input;
    std::string where;
    std::tie(input, where) = GENERATE(table<std::string, std::string>({
        {"5\nhello\r\n0\r\n\r\n", "size line"},
        {"5;ext\nhello\r\n0\r\n\r\n", "size line after an extension"},
        {"5;a=b\nhello\r\n0\r\n\r\n", "size line after an extension value"},
        {"5;a=\"b\"\nhello\r\n0\r\n\r\n", "size line after a quoted value"},
        {"5 \nhello\r\n0\r\n\r\n", "size line after whitespace"},
        {"5\r\nhello\n0\r\n\r\n", "after chunk data"},
        {"5\r\nhello\r\n0\n\r\n", "last chunk line"},
        {"5\r\nhello\r\n0\r\nA: b\n\r\n", "trailer line"},
        {"5\r\nhello\r\n0\r\nA\n\r\n", "trailer name"},
        {"5\r\nhello\r\n0\r\n\n", "final line"},
        {"5\nhello\n0\n\n", "every line"},
    }));
    CAPTURE(input, where);
    auto whole = decode(input);
    CHECK(whole.status == "bad_framing");
    CHECK_THAT(whole.reason, Catch::Contains("bare LF"));
    auto bytes = decode_bytewise(input);
    CHECK(bytes.status == "bad_framing");
    CHECK(bytes.consumed == whole.consumed);
    // The LF itself is not taken.
    CHECK(input[whole.consumed] == '\n');
}

TEST_CASE("broken chunk lines, data endings and trailers are bad framing", "[chunked]")
{
    std::string input;
    std::string why;
    std::tie(input, why) = GENERATE(table<std::string, std::string>({
        {"zz\r\n{}\r\n0\r\n\r\n", "size not hex"},
        {"-5\r\nhello\r\n0\r\n\r\n", "negative size"},
        {"+5\r\nhello\r\n0\r\n\r\n", "signed size"},
        {"0x5\r\nhello\r\n0\r\n\r\n", "0x prefix"},
        {"5g\r\nhello\r\n0\r\n\r\n", "junk after the digits"},
        {" 5\r\nhello\r\n0\r\n\r\n", "whitespace before the size"},
        {"1 0\r\n0123456789abcdef\r\n0\r\n\r\n", "whitespace inside the size"},
        {"5 \r\nhello\r\n0\r\n\r\n", "whitespace not leading to ';'"},
        {"\r\nhello\r\n0\r\n\r\n", "empty size"},
        {";a\r\nhello\r\n0\r\n\r\n", "extension without size"},
        {"5\rhello\r\n0\r\n\r\n", "CR without LF in the size line"},
        {"5;=\r\nhello\r\n0\r\n\r\n", "extension without a name"},
        {"5;\r\nhello\r\n0\r\n\r\n", "';' without a name"},
        {"5;a=\r\nhello\r\n0\r\n\r\n", "'=' without a value"},
        {"5;a==b\r\nhello\r\n0\r\n\r\n", "two '='"},
        {"5;a=b=c\r\nhello\r\n0\r\n\r\n", "'=' in a token value"},
        {"5;a b\r\nhello\r\n0\r\n\r\n", "whitespace between two names"},
        {"5;a=\"b\"c\r\nhello\r\n0\r\n\r\n", "junk after a quoted value"},
        {"5;a=\"b\r\nhello\r\n0\r\n\r\n", "unterminated quoted value"},
        {"5;\xc3\xa9\r\nhello\r\n0\r\n\r\n", "non-token extension name"},
        {"5;a(b)\r\nhello\r\n0\r\n\r\n", "delimiter in an extension name"},
        {"5\r\nhelloXX0\r\n\r\n", "data not followed by CRLF"},
        {"5\r\nhello\rX0\r\n\r\n", "data followed by CR without LF"},
        {"5\r\nhellohello\r\n0\r\n\r\n", "more data than the size"},
        {"5\r\nhello\r\n0\r\nno colon here\r\n\r\n", "trailer without colon"},
        {"5\r\nhello\r\n0\r\nName : v\r\n\r\n", "space before the trailer colon"},
        {"5\r\nhello\r\n0\r\n: v\r\n\r\n", "trailer without a name"},
        {"5\r\nhello\r\n0\r\nA: b\r\n c\r\n\r\n", "obsolete folding in a trailer"},
        {"5\r\nhello\r\n0\r\nA: b\rc\r\n\r\n", "CR inside a trailer value"},
        {"5\r\nhello\r\n0\r\n\rX", "final CR without LF"},
        {"5\r\nhello\r\n0\r\nA: \x00\r\n\r\n"s, "NUL in a trailer"},
        {"5\r\nhello\r\n0\r\nA: \x1b[31m\r\n\r\n", "escape in a trailer"},
        {"5\r\nhello\r\n0\r\nA: \x7f\r\n\r\n", "DEL in a trailer"},
    }));
    CAPTURE(input, why);
    auto whole = decode(input);
    CHECK(whole.status == "bad_framing");
    CHECK_FALSE(whole.reason.empty());
    auto bytes = decode_bytewise(input);
    CHECK(bytes.status == "bad_framing");
    CHECK(bytes.consumed == whole.consumed);
    CHECK(bytes.reason == whole.reason);
}

TEST_CASE("a control character in a chunk extension is bad framing but HTAB is not", "[chunked]")
{
    std::string ext;
    bool allowed = false;
    std::tie(ext, allowed) = GENERATE(table<std::string, bool>({
        {";a\x01", false},
        {";\x01", false},
        {";a=b\x7f", false},
        {";a=\"x\x00y\""s, false},
        {";a=\"x\x1b\"", false},
        {";a=\"x\\\x01\"", false},
        {";a=\"x\ny\"", false},
        {"\x0b;a", false},
        {";a=\"x\ty\"", true},
        {"\t;\ta\t=\tb", true},
        {";a=\"\\\t\"", true},
        {";a=\"\x80\xff\"", true},
    }));
    std::string input = "5" + ext + "\r\nhello\r\n0\r\n\r\n";
    CAPTURE(input);
    auto whole = decode(input);
    CHECK(whole.status == (allowed ? "done" : "bad_framing"));
    if (allowed)
        CHECK(whole.body == "hello");
    CHECK(decode_bytewise(input).status == whole.status);
}

TEST_CASE("a chunk size is at most 16 significant hex digits and 32 characters", "[chunked]")
{
    std::string size;
    std::string expected;
    std::tie(size, expected) = GENERATE(table<std::string, std::string>({
        {"ffffffffffffffff", "body_limit"},    // fits in 64 bits, but far over the limit
        {"10000000000000000", "bad_framing"},  // 17 significant digits: 2^64
        {"ffffffffffffffffffff", "bad_framing"},
        {"0000000000000000000000000000005", "more"},   // 31 characters, leading zeros
        {"00000000000000000000000000000005", "more"},  // exactly 32
        {"000000000000000000000000000000005", "bad_framing"}, // 33
        {"000000000000000000000000000000000", "bad_framing"}, // 33 zeros, even for a last chunk
    }));
    std::string input = size + "\r\nhello";
    CAPTURE(input);
    auto whole = decode(input);
    CHECK(whole.status == expected);
    CHECK(decode_bytewise(input).status == expected);
    if (expected == "more")
        CHECK(whole.body == "hello");
}

TEST_CASE("extensions and trailers may use the framing budget exactly, not one byte more", "[chunked]")
{
    constexpr std::size_t budget = 64;
    std::string name;
    std::string make_body;
    std::tie(name, make_body) = GENERATE(table<std::string, std::string>({
        {"one extension", "ext"},
        {"one trailer", "trailer"},
        {"extensions and trailers together", "both"},
        {"extensions over many chunks", "many"},
    }));
    CAPTURE(name);
    // The body using `used` bytes of the budget.
    auto body_using = [&](std::size_t used) {
        if (make_body == "ext") // ";" + name
            return "5;" + std::string(used - 1, 'e') + "\r\nhello\r\n0\r\n\r\n";
        if (make_body == "trailer") // "T:" + value + CRLF
            return "5\r\nhello\r\n0\r\nT:" + std::string(used - 4, 'v') + "\r\n\r\n";
        if (make_body == "both") // 20 bytes of extension, the rest in a trailer
            return "5;" + std::string(19, 'e') + "\r\nhello\r\n0\r\nT:" + std::string(used - 24, 'v') + "\r\n\r\n";
        // 8 chunks of "1;eeeeeee" (8 bytes of extension each), then the rest on the last chunk
        std::string out;
        for (int i = 0; i < 7; ++i)
            out += "1;eeeeeee\r\nx\r\n";
        return out + "0;" + std::string(used - 57, 'e') + "\r\n\r\n";
    };
    std::string at_limit = body_using(budget);
    std::string over = body_using(budget + 1);
    CAPTURE(at_limit, over);
    auto ok = decode(at_limit, {}, budget);
    CHECK(ok.status == "done");
    CHECK(ok.consumed == at_limit.size());
    CHECK(decode_bytewise(at_limit, budget).status == "done");
    auto refused = decode(over, {}, budget);
    CHECK(refused.status == "framing_limit");
    CHECK(decode_bytewise(over, budget).status == "framing_limit");
    CHECK(refused.consumed < over.size());
}

TEST_CASE("a huge extension or trailer is refused as soon as the budget is spent", "[chunked]")
{
    std::string prefix = GENERATE("1;"s, "1\r\nx\r\n0\r\nX-Big: "s, "1;a=\""s);
    std::string input = prefix + std::string(1024 * 1024, 'e');
    CAPTURE(prefix);
    chunked_decoder d(16384, 1024 * 1024);
    std::string out;
    std::size_t consumed = 0;
    CHECK(d.feed(input, out, consumed) == status::framing_limit);
    // It stopped at the first byte over the budget instead of reading (or keeping) the rest.
    CHECK(consumed <= prefix.size() + 16384);
    CHECK(out.size() <= 1);
}

TEST_CASE("data beyond the body limit is refused, an oversized chunk as soon as its size is read", "[chunked]")
{
    constexpr std::uint64_t limit = 10;
    std::string input;
    std::string expected;
    std::size_t stop = 0; // bytes taken: up to the end of the size token of the chunk that passes the limit
    std::tie(input, expected, stop) = GENERATE(table<std::string, std::string, std::size_t>({
        {"a\r\n0123456789\r\n0\r\n\r\n", "done", 20},
        {"5\r\n01234\r\n5\r\n56789\r\n0\r\n\r\n", "done", 25},
        {"b\r\n0123456789a\r\n0\r\n\r\n", "body_limit", 1},
        {"5\r\n01234\r\n6\r\n567890\r\n0\r\n\r\n", "body_limit", 11},
        {"a\r\n0123456789\r\n1\r\nx\r\n0\r\n\r\n", "body_limit", 16},
        {"e8d4a51000\r\n", "body_limit", 10}, // 1 TB announced, no data sent
        {"e8d4a51000;ext\r\n", "body_limit", 10},
        {"ffffffffffffffff\r\n", "body_limit", 16},
    }));
    CAPTURE(input);
    auto whole = decode(input, {}, 16384, limit);
    CHECK(whole.status == expected);
    CHECK(whole.consumed == stop);
    CHECK(whole.body.size() <= limit);
    auto bytes = decode_bytewise(input, 16384, limit);
    CHECK(bytes.status == expected);
    CHECK(bytes.consumed == stop);
    if (expected == "body_limit")
        CHECK(whole.reason.find("limit") != std::string::npos);
}

TEST_CASE("the bytes after the end of the body are left for the next request", "[chunked]")
{
    std::string body = GENERATE("0\r\n\r\n"s, "3\r\nabc\r\n0\r\n\r\n"s, "3;x=y\r\nabc\r\n0\r\nT: v\r\n\r\n"s);
    std::string next = GENERATE(""s, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"s, "\r\n"s, "\n0\r\n\r\n"s, "5\r\n"s);
    std::string input = body + next;
    CAPTURE(input);
    for (std::size_t split = 0; split <= input.size(); ++split) {
        CAPTURE(split);
        auto r = decode(input, {split});
        REQUIRE(r.status == "done");
        REQUIRE(r.consumed == body.size());
    }
    chunked_decoder d(16384, 1024);
    std::string out;
    std::size_t consumed = 99;
    REQUIRE(d.feed(input, out, consumed) == status::done);
    CHECK(consumed == body.size());
    // Once done, it takes nothing more.
    std::size_t again = 99;
    CHECK(d.feed(next + "5\r\nhello\r\n", out, again) == status::done);
    CHECK(again == 0);
    CHECK(out == (body.find("abc") != std::string::npos ? "abc" : ""));
}

TEST_CASE("an error is sticky: later feeds return it and take nothing", "[chunked]")
{
    std::string input;
    std::string expected;
    std::size_t budget = 0;
    std::uint64_t limit = 0;
    std::tie(input, expected, budget, limit) = GENERATE(table<std::string, std::string, std::size_t, std::uint64_t>({
        {"zz\r\n", "bad_framing", 64, 64},
        {"5\nhello", "bad_framing", 64, 64},
        {"5;" + std::string(100, 'e'), "framing_limit", 64, 64},
        {"ff\r\n", "body_limit", 64, 64},
    }));
    CAPTURE(input);
    chunked_decoder d(budget, limit);
    std::string out;
    std::size_t consumed = 0;
    REQUIRE(name_of(d.feed(input, out, consumed)) == expected);
    auto reason = std::string(d.reason());
    auto bytes = d.body_bytes();
    for (std::string more : {"5\r\nhello\r\n0\r\n\r\n"s, "0\r\n\r\n"s, ""s, "\r\n"s}) {
        CAPTURE(more);
        std::string out2;
        std::size_t taken = 99;
        CHECK(name_of(d.feed(more, out2, taken)) == expected);
        CHECK(taken == 0);
        CHECK(out2.empty());
        CHECK(std::string(d.reason()) == reason);
        CHECK(d.body_bytes() == bytes);
    }
}
