#include "common/formats/ndjson_reader.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

using profiled::ndjson_line_splitter;

namespace {

using numbered_line = std::pair<std::string, std::uint64_t>;

struct outcome {
    std::vector<numbered_line> lines;
    std::optional<profiled::ndjson_error> error;
    std::uint64_t lines_seen = 0;
};

// Splits `text` fed `piece` bytes at a time (0 = one feed).
outcome split(std::string_view text, std::size_t piece,
              std::size_t max_line = ndjson_line_splitter::default_max_line_bytes) {
    outcome out;
    ndjson_line_splitter splitter(
        [&](std::string_view line, std::uint64_t number) { out.lines.emplace_back(line, number); },
        max_line);
    if (piece == 0) piece = std::max<std::size_t>(text.size(), 1);
    for (std::size_t at = 0; at < text.size(); at += piece) splitter.feed(text.substr(at, piece));
    splitter.finish();
    out.error = splitter.error();
    out.lines_seen = splitter.lines_seen();
    return out;
}

} // namespace

TEST_CASE("ndjson splitter yields non-blank lines with physical line numbers", "[ndjson]") {
    auto piece = GENERATE(std::size_t{0}, 1, 2, 3, 7, 64);
    CAPTURE(piece);

    SECTION("LF lines, blank lines skipped but counted") {
        outcome got = split("{\"a\":1}\n\n   \n\t\n{\"b\":2}\n", piece);
        CHECK_FALSE(got.error);
        CHECK(got.lines == std::vector<numbered_line>{{"{\"a\":1}", 1}, {"{\"b\":2}", 5}});
        CHECK(got.lines_seen == 5);
    }
    SECTION("CRLF lines lose their CR, CRLF-only lines are blank") {
        outcome got = split("{\"a\":1}\r\n\r\n \r\n{\"b\":2}\r\n", piece);
        CHECK(got.lines == std::vector<numbered_line>{{"{\"a\":1}", 1}, {"{\"b\":2}", 4}});
    }
    SECTION("a final line without a newline counts") {
        outcome got = split("{\"a\":1}\n{\"b\":2}", piece);
        CHECK(got.lines == std::vector<numbered_line>{{"{\"a\":1}", 1}, {"{\"b\":2}", 2}});
        CHECK(got.lines_seen == 2);
    }
    SECTION("a final CR-terminated line without LF loses its CR") {
        outcome got = split("{\"a\":1}\r", piece);
        CHECK(got.lines == std::vector<numbered_line>{{"{\"a\":1}", 1}});
    }
    SECTION("inner whitespace and a lone CR inside a line are kept") {
        outcome got = split("  {\"a\": \"x\ry\"}  \n", piece);
        CHECK(got.lines == std::vector<numbered_line>{{"  {\"a\": \"x\ry\"}  ", 1}});
    }
    SECTION("a UTF-8 byte order mark opening the file is dropped") {
        outcome got = split("\xEF\xBB\xBF{\"a\":1}\n\xEF\xBB\xBF{\"b\":2}\n", piece);
        CHECK(got.lines == std::vector<numbered_line>{{"{\"a\":1}", 1}, {"\xEF\xBB\xBF{\"b\":2}", 2}});
    }
    SECTION("empty and blank-only input yield nothing") {
        CHECK(split("", piece).lines.empty());
        outcome got = split("\n\r\n  \n", piece);
        CHECK(got.lines.empty());
        CHECK_FALSE(got.error);
        CHECK(got.lines_seen == 3);
    }
}

TEST_CASE("ndjson splitter refuses over-long lines", "[ndjson]") {
    auto piece = GENERATE(std::size_t{0}, 1, 3, 7, 64);
    CAPTURE(piece);
    const std::size_t max = 16;
    const std::string fits(max, 'x');
    const std::string too_long(max + 1, 'x');

    SECTION("a line of exactly the limit passes, CR not counted") {
        outcome got = split(fits + "\n" + fits + "\r\n" + fits, piece, max);
        CHECK_FALSE(got.error);
        CHECK(got.lines.size() == 3);
    }
    SECTION("one byte over fails with the line number") {
        outcome got = split("{}\n\n" + too_long + "\n{}\n", piece, max);
        REQUIRE(got.error);
        CHECK(got.error->code == "line_too_long");
        CHECK(got.error->line_number == 3);
        CHECK_FALSE(got.error->message.empty());
        // Only the line before the long one was delivered; nothing after it.
        CHECK(got.lines == std::vector<numbered_line>{{"{}", 1}});
    }
    SECTION("an over-long final line without a newline fails too") {
        outcome got = split("{}\n" + too_long, piece, max);
        REQUIRE(got.error);
        CHECK(got.error->code == "line_too_long");
        CHECK(got.error->line_number == 2);
    }
    SECTION("a line far longer than the limit is never buffered whole") {
        ndjson_line_splitter splitter([](std::string_view, std::uint64_t) {}, max);
        for (int i = 0; i < 1000; ++i) splitter.feed(std::string(100, 'x'));
        REQUIRE(splitter.error());
        CHECK(splitter.error()->line_number == 1);
    }
}

TEST_CASE("ndjson splitter ignores input after an error", "[ndjson]") {
    int calls = 0;
    ndjson_line_splitter splitter([&](std::string_view, std::uint64_t) { ++calls; }, 4);
    splitter.feed("12345\n");
    REQUIRE(splitter.error());
    splitter.feed("{}\n{}\n");
    splitter.finish();
    CHECK(calls == 0);
    CHECK(splitter.error()->line_number == 1);
}

TEST_CASE("ndjson splitter uses a 1 MiB default line limit", "[ndjson]") {
    CHECK(split(std::string(1024 * 1024, 'x') + "\n", 0).lines.size() == 1);
    outcome got = split(std::string(1024 * 1024 + 1, 'x') + "\n", 0);
    REQUIRE(got.error);
    CHECK(got.error->code == "line_too_long");
}
