#include "common/formats/multipart_parser.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <optional>
#include <random>
#include <string>
#include <tuple>

using profiled::multipart_boundary;
using profiled::multipart_parser;

namespace {

struct outcome {
    std::string content;
    std::optional<std::string> error_code;
    bool found = false;
    std::string filename;
};

// Runs a whole body through a parser, `piece` bytes per feed (0 = one feed).
outcome parse_in_pieces(std::string_view body, const std::string& boundary, std::size_t piece,
                        const std::string& target = "file") {
    outcome out;
    multipart_parser parser(boundary, target, [&](std::string_view s) { out.content.append(s); });
    if (piece == 0) piece = std::max<std::size_t>(body.size(), 1);
    for (std::size_t at = 0; at < body.size(); at += piece) parser.feed(body.substr(at, piece));
    parser.finish();
    if (parser.error()) out.error_code = parser.error()->code;
    out.found = parser.found_target();
    out.filename = parser.filename();
    return out;
}

// Writes a body with the given line ending, the way clients lay parts out.
std::string with_eol(std::string text, std::string_view eol) {
    std::string out;
    for (char c : text) {
        if (c == '\n') {
            out += eol;
        } else {
            out += c;
        }
    }
    return out;
}

const std::string ndjson = "{\"user_id\":\"u1\"}\n{\"user_id\":\"u2\"}\n";

// A curl-like body: a text field, the file, another text field.
std::string three_part_body(std::string_view eol) {
    return with_eol("--XyZ\n"
                    "Content-Disposition: form-data; name=\"comment\"\n"
                    "\n"
                    "first field\n"
                    "--XyZ\n"
                    "Content-Disposition: form-data; name=\"file\"; filename=\"users.ndjson\"\n"
                    "Content-Type: application/x-ndjson\n"
                    "\n",
                    eol) +
           ndjson +
           with_eol("\n--XyZ\n"
                    "Content-Disposition: form-data; name=\"after\"\n"
                    "\n"
                    "last field\n"
                    "--XyZ--\n",
                    eol);
}

} // namespace

TEST_CASE("multipart_boundary reads the boundary parameter", "[multipart]") {
    using expected = std::optional<std::string>;
    auto [content_type, boundary] = GENERATE(table<std::string, expected>({
        {"multipart/form-data; boundary=abc", "abc"},
        {"Multipart/Form-Data; BOUNDARY=abc", "abc"},
        {"multipart/form-data;boundary=abc", "abc"},
        {"multipart/form-data; charset=utf-8; boundary=xyz", "xyz"},
        {"multipart/form-data; boundary=\"a b:c=d\"", "a b:c=d"},
        {"multipart/form-data; boundary=----WebKitFormBoundary7MA4YWxk", "----WebKitFormBoundary7MA4YWxk"},
        {"multipart/form-data; boundary=first; boundary=second", "first"},
        {"multipart/form-data; boundary=" + std::string(70, 'b'), std::string(70, 'b')},
        {"multipart/form-data; boundary=" + std::string(71, 'b'), std::nullopt},
        {"multipart/form-data", std::nullopt},
        {"multipart/form-data; charset=utf-8", std::nullopt},
        {"multipart/form-data; boundary=", std::nullopt},
        {"multipart/form-data; boundary=\"\"", std::nullopt},
        {"multipart/form-data; boundary=\"abc", std::nullopt},
        {"multipart/mixed; boundary=abc", std::nullopt},
        {"application/json", std::nullopt},
        {"", std::nullopt},
    }));
    CAPTURE(content_type);
    CHECK(multipart_boundary(content_type) == boundary);
}

TEST_CASE("multipart parser extracts the file part however the body is split", "[multipart]") {
    auto eol = GENERATE(as<std::string>{}, "\r\n", "\n");
    std::string body = three_part_body(eol);
    CAPTURE(eol.size());

    SECTION("fixed piece sizes give the same result as one feed") {
        auto piece = GENERATE(std::size_t{0}, 1, 2, 3, 7, 64);
        CAPTURE(piece);
        outcome got = parse_in_pieces(body, "XyZ", piece);
        CHECK_FALSE(got.error_code);
        CHECK(got.found);
        CHECK(got.filename == "users.ndjson");
        CHECK(got.content == ndjson);
    }
    SECTION("two feeds split at every position") {
        for (std::size_t cut = 0; cut <= body.size(); ++cut) {
            CAPTURE(cut);
            outcome got;
            multipart_parser parser("XyZ", "file", [&](std::string_view s) { got.content.append(s); });
            parser.feed(std::string_view(body).substr(0, cut));
            parser.feed(std::string_view(body).substr(cut));
            parser.finish();
            REQUIRE_FALSE(parser.error());
            REQUIRE(got.content == ndjson);
        }
    }
}

TEST_CASE("multipart parser accepts what real clients send", "[multipart]") {
    auto piece = GENERATE(std::size_t{0}, 1, 3, 64);
    CAPTURE(piece);

    SECTION("quoted boundary with characters that need quoting") {
        std::string ct = "multipart/form-data; boundary=\"a:b c=d\"";
        auto boundary = multipart_boundary(ct);
        REQUIRE(boundary == "a:b c=d");
        std::string body = "--a:b c=d\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\n"
                           "payload\r\n--a:b c=d--\r\n";
        outcome got = parse_in_pieces(body, *boundary, piece);
        CHECK_FALSE(got.error_code);
        CHECK(got.content == "payload");
        CHECK(got.filename.empty());
    }
    SECTION("preamble, transport padding and epilogue are ignored") {
        std::string body = "This is the preamble.\r\n--B  \t\r\n"
                           "content-disposition: FORM-DATA; NAME=file; filename=u.ndjson\r\n\r\n"
                           "data\r\n--B--\r\nThis is the epilogue, even --B inside it.\r\n";
        outcome got = parse_in_pieces(body, "B", piece);
        CHECK_FALSE(got.error_code);
        CHECK(got.content == "data");
        CHECK(got.filename == "u.ndjson");
    }
    SECTION("closing boundary without a final line break") {
        std::string body = "--B\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nx\r\n--B--";
        outcome got = parse_in_pieces(body, "B", piece);
        CHECK_FALSE(got.error_code);
        CHECK(got.content == "x");
    }
    SECTION("folded Content-Disposition and backslash-escaped filename") {
        std::string body = "--B\r\nContent-Disposition: form-data;\r\n name=\"file\";"
                           " filename=\"my \\\"users\\\".ndjson\"\r\n\r\nx\r\n--B--\r\n";
        outcome got = parse_in_pieces(body, "B", piece);
        CHECK_FALSE(got.error_code);
        CHECK(got.found);
        CHECK(got.filename == "my \"users\".ndjson");
    }
    SECTION("a second part with the target name is refused, not silently dropped") {
        std::string body = "--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a\"\r\n\r\n"
                           "first\r\n--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"b\"\r\n\r\n"
                           "second\r\n--B--\r\n";
        outcome got = parse_in_pieces(body, "B", piece);
        CHECK(got.error_code == "duplicate_file_part");
        CHECK(got.filename == "a");
    }
    SECTION("a part named like a prefix of the target is not the target") {
        std::string body = "--B\r\nContent-Disposition: form-data; name=\"files\"\r\n\r\nno\r\n"
                           "--B\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nyes\r\n--B--\r\n";
        outcome got = parse_in_pieces(body, "B", piece);
        CHECK_FALSE(got.error_code);
        CHECK(got.content == "yes");
    }
}

TEST_CASE("multipart parser keeps content that only looks like a boundary", "[multipart]") {
    auto piece = GENERATE(std::size_t{0}, 1, 2, 3, 7, 64);
    CAPTURE(piece);
    // Every prefix of the delimiter, CRs without LF, and the boundary
    // where it is not at the start of a line.
    std::string content = "a\r\n-b\r\n--\r\n--b\r\n--bo\r\n--bou\r\n--bound\r\n--boundar\n--boundar"
                          "\r\r\r\n\r\n-boundary-less text--boundary\r\n- --boundary\r";
    std::string body = "--boundary\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\n" + content +
                       "\r\n--boundary--\r\n";
    outcome got = parse_in_pieces(body, "boundary", piece);
    CHECK_FALSE(got.error_code);
    CHECK(got.content == content);
}

TEST_CASE("multipart parser handles empty parts", "[multipart]") {
    auto piece = GENERATE(std::size_t{0}, 1, 2, 5);
    CAPTURE(piece);

    SECTION("empty file content with the usual blank line") {
        std::string body = "--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"e.ndjson\"\r\n"
                           "\r\n\r\n--B--\r\n";
        outcome got = parse_in_pieces(body, "B", piece);
        CHECK_FALSE(got.error_code);
        CHECK(got.found);
        CHECK(got.filename == "e.ndjson");
        CHECK(got.content.empty());
    }
    SECTION("empty content where the blank line is the delimiter's line break") {
        std::string body = "--B\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\n--B--\r\n";
        outcome got = parse_in_pieces(body, "B", piece);
        CHECK_FALSE(got.error_code);
        CHECK(got.found);
        CHECK(got.content.empty());
    }
    SECTION("content that is a single line break") {
        std::string body = "--B\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\n\r\n\r\n--B--\r\n";
        outcome got = parse_in_pieces(body, "B", piece);
        CHECK_FALSE(got.error_code);
        CHECK(got.content == "\r\n");
    }
}

TEST_CASE("multipart parser reports bodies it cannot accept", "[multipart]") {
    auto piece = GENERATE(std::size_t{0}, 1, 3, 64);
    CAPTURE(piece);
    const std::string file_part = "--B\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nrow\r\n";

    SECTION("no part with the target name") {
        std::string body = "--B\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\nrow\r\n--B--\r\n";
        outcome got = parse_in_pieces(body, "B", piece);
        CHECK(got.error_code == "missing_file_part");
        CHECK_FALSE(got.found);
        CHECK(got.content.empty());
    }
    SECTION("body that never contains the boundary") {
        outcome got = parse_in_pieces(file_part + "--B--\r\n", "WRONG", piece);
        CHECK(got.error_code == "malformed_multipart");
        CHECK(got.content.empty());
    }
    SECTION("body truncated inside the content") {
        outcome got = parse_in_pieces(file_part, "B", piece);
        CHECK(got.error_code == "malformed_multipart");
    }
    SECTION("body truncated inside the part headers") {
        outcome got = parse_in_pieces("--B\r\nContent-Disposition: form-da", "B", piece);
        CHECK(got.error_code == "malformed_multipart");
    }
    SECTION("body that ends on a boundary that neither closes nor opens a part") {
        outcome got = parse_in_pieces(file_part + "--B", "B", piece);
        CHECK(got.error_code == "malformed_multipart");
    }
    SECTION("empty body") {
        outcome got = parse_in_pieces("", "B", piece);
        CHECK(got.error_code == "malformed_multipart");
    }
    SECTION("content line that starts with the boundary (RFC 2046 forbids it)") {
        outcome got = parse_in_pieces(file_part + "--B-less\r\n--B--\r\n", "B", piece);
        CHECK(got.error_code == "malformed_multipart");
    }
    SECTION("a single dash after a boundary") {
        outcome got = parse_in_pieces(file_part + "--B-x\r\n", "B", piece);
        CHECK(got.error_code == "malformed_multipart");
    }
    SECTION("part without Content-Disposition") {
        outcome got = parse_in_pieces("--B\r\nContent-Type: text/plain\r\n\r\nrow\r\n--B--\r\n", "B", piece);
        CHECK(got.error_code == "malformed_multipart");
    }
    SECTION("Content-Disposition without a name") {
        outcome got = parse_in_pieces("--B\r\nContent-Disposition: form-data\r\n\r\nrow\r\n--B--\r\n", "B", piece);
        CHECK(got.error_code == "malformed_multipart");
    }
    SECTION("header line without a colon") {
        outcome got = parse_in_pieces("--B\r\nContent-Disposition: form-data; name=file\r\nnonsense\r\n\r\n"
                                      "row\r\n--B--\r\n",
                                      "B", piece);
        CHECK(got.error_code == "malformed_multipart");
    }
    SECTION("part headers over the limit") {
        std::string body = "--B\r\nContent-Disposition: form-data; name=\"file\"\r\nX-Padding: " +
                           std::string(9000, 'p') + "\r\n\r\nrow\r\n--B--\r\n";
        outcome got = parse_in_pieces(body, "B", piece);
        CHECK(got.error_code == "part_headers_too_large");
        CHECK(got.content.empty());
    }
}

TEST_CASE("multipart header limit is per part and configurable", "[multipart]") {
    std::string headers = "Content-Disposition: form-data; name=\"file\"\r\n";
    std::string body = "--B\r\n" + headers + "\r\nrow\r\n--B--\r\n";
    // The limit counts the header lines and the blank line that ends them.
    std::size_t exact = headers.size() + 2;
    auto run = [&](std::size_t limit) {
        std::string content;
        multipart_parser parser("B", "file", [&](std::string_view s) { content.append(s); }, limit);
        parser.feed(body);
        parser.finish();
        return parser.error() ? parser.error()->code : content;
    };
    CHECK(run(exact) == "row");
    CHECK(run(exact - 1) == "part_headers_too_large");
}

TEST_CASE("multipart parser ignores input after an error", "[multipart]") {
    int calls = 0;
    multipart_parser parser("B", "file", [&](std::string_view) { ++calls; });
    parser.feed("--B\r\nno colon here\r\n");
    REQUIRE(parser.error());
    CHECK(parser.error()->code == "malformed_multipart");
    CHECK_FALSE(parser.error()->message.empty());
    parser.feed("\r\n--B\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nrow\r\n--B--\r\n");
    parser.finish();
    CHECK(parser.error()->code == "malformed_multipart");
    CHECK(calls == 0);
    CHECK_FALSE(parser.found_target());
}

TEST_CASE("multipart parser streams instead of buffering the part", "[multipart]") {
    std::string emitted;
    std::size_t largest_slice = 0;
    multipart_parser parser("boundary", "file", [&](std::string_view s) {
        emitted.append(s);
        largest_slice = std::max(largest_slice, s.size());
    });
    parser.feed("--boundary\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\n");
    std::string content;
    for (int i = 0; i < 2000; ++i) content += "{\"user_id\":\"u" + std::to_string(i) + "\"}\r\n";
    // Byte by byte, the parser may hold back at most a possible "\r\n--boundary".
    const std::size_t delimiter_length = std::string_view("\r\n--boundary").size();
    std::size_t fed = 0;
    for (char c : content) {
        parser.feed(std::string_view(&c, 1));
        ++fed;
        REQUIRE(fed - emitted.size() <= delimiter_length);
    }
    REQUIRE(std::string_view(content).starts_with(emitted));
    SECTION("only a trailing line break waits for the next byte") {
        // The content ends in "\r\n", which could still start a delimiter.
        CHECK(emitted.size() == content.size() - 2);
    }
    SECTION("large feeds are released in large slices") {
        std::string big(1 << 20, 'x');
        parser.feed(big);
        CHECK(largest_slice >= big.size() - 128);
    }
    parser.feed("\r\n--boundary--\r\n");
    parser.finish();
    CHECK_FALSE(parser.error());
}

TEST_CASE("multipart parser round-trips random delimiter-like content", "[multipart]") {
    std::mt19937 rng(12345);
    const std::string alphabet = "\r\n-box";
    const std::string boundary = "box";
    for (int round = 0; round < 300; ++round) {
        std::string content;
        std::size_t length = rng() % 200;
        for (std::size_t i = 0; i < length; ++i) content += alphabet[rng() % alphabet.size()];
        // Content may not contain a delimiter (RFC 2046 requires the boundary to be absent).
        if (content.find("\n--box") != std::string::npos) continue;
        // Right after the headers, "--box" would be the (empty) part's delimiter.
        if (content.starts_with("--box")) continue;
        std::string body = "--box\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\n" + content +
                           "\r\n--box--\r\n";
        std::string got;
        multipart_parser parser(boundary, "file", [&](std::string_view s) { got.append(s); });
        for (std::size_t at = 0; at < body.size();) {
            std::size_t n = 1 + rng() % 9;
            parser.feed(std::string_view(body).substr(at, n));
            at += n;
        }
        parser.finish();
        CAPTURE(round, content);
        REQUIRE_FALSE(parser.error());
        REQUIRE(got == content);
    }
}

TEST_CASE("multipart parser survives being moved mid-body", "[multipart]") {
    std::string got;
    multipart_parser first("B", "file", [&](std::string_view s) { got.append(s); });
    first.feed("--B\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nab");
    multipart_parser second = std::move(first);
    second.feed("c\r\n--B--\r\n");
    second.finish();
    CHECK_FALSE(second.error());
    CHECK(got == "abc");
}
