#include "common/formats/bulk_json_reader.hpp"

#include <catch2/catch.hpp>

#include <boost/json.hpp>

#include <algorithm>
#include <cmath>
#include <optional>
#include <string>
#include <vector>

using profiled::bulk_json_reader;

namespace {

struct outcome {
    std::vector<std::string> rows;
    std::optional<profiled::bulk_json_error> error;
};

// Reads `body` fed `piece` bytes at a time (0 = one feed).
outcome read_rows(std::string_view body, std::size_t piece, const std::string& key = "users",
                  std::size_t max_depth = bulk_json_reader::default_max_depth,
                  std::size_t max_row = bulk_json_reader::default_max_row_bytes) {
    outcome out;
    bulk_json_reader reader(
        key, [&](std::string_view row) { out.rows.emplace_back(row); }, max_depth, max_row);
    if (piece == 0) piece = std::max<std::size_t>(body.size(), 1);
    for (std::size_t at = 0; at < body.size(); at += piece) reader.feed(body.substr(at, piece));
    reader.finish();
    out.error = reader.error();
    return out;
}

// The code of the error, or "none".
std::string code_of(const outcome& o) { return o.error ? o.error->code : "none"; }

using rows = std::vector<std::string>;

} // namespace

TEST_CASE("bulk json reader emits each array element as compact JSON", "[bulk_json]") {
    auto piece = GENERATE(std::size_t{0}, 1, 2, 3, 7, 64);
    CAPTURE(piece);

    SECTION("objects with nested metadata") {
        std::string body = R"( { "users" : [
            { "user_id" : "u1", "company_id": "c1",
              "metadata" : { "plan" : "pro", "seats" : 12, "tags" : [ true , false , null ], "x": {} } },
            {"user_id":"u2","metadata":{"empty":[]}}
        ] } )";
        outcome got = read_rows(body, piece);
        CHECK(code_of(got) == "none");
        CHECK(got.rows == rows{
            R"({"user_id":"u1","company_id":"c1","metadata":{"plan":"pro","seats":12,"tags":[true,false,null],"x":{}}})",
            R"({"user_id":"u2","metadata":{"empty":[]}})"});
    }
    SECTION("numbers keep their source text") {
        std::string body = R"({"users":[{"n":[0,-0,1.50,-2.5e-3,1E+2,12345678901234567890123,18446744073709551615,-9223372036854775808]}]})";
        outcome got = read_rows(body, piece);
        CHECK(code_of(got) == "none");
        CHECK(got.rows == rows{
            R"({"n":[0,-0,1.50,-2.5e-3,1E+2,12345678901234567890123,18446744073709551615,-9223372036854775808]})"});
    }
    SECTION("elements that are not objects are rows of their own") {
        std::string body = R"({"users":[1, "x" ,null,[1, [2]],{"a":{}},true,false,-3.5,"",[],{}]})";
        outcome got = read_rows(body, piece);
        CHECK(code_of(got) == "none");
        CHECK(got.rows == rows{"1", "\"x\"", "null", "[1,[2]]", "{\"a\":{}}", "true", "false", "-3.5",
                               "\"\"", "[]", "{}"});
    }
    SECTION("an empty array gives no rows and no error") {
        outcome got = read_rows(R"({"users":[]})", piece);
        CHECK(code_of(got) == "none");
        CHECK(got.rows.empty());
    }
    SECTION("the array key is configurable") {
        outcome got = read_rows(R"({"users":[{"a":1}],"companies":[{"company_id":"c"}]})", piece, "companies");
        CHECK(code_of(got) == "none");
        CHECK(got.rows == rows{R"({"company_id":"c"})"});
    }
}

TEST_CASE("bulk json reader skips everything outside the array", "[bulk_json]") {
    auto piece = GENERATE(std::size_t{0}, 1, 3, 64);
    CAPTURE(piece);

    SECTION("other keys before and after, including nested look-alikes") {
        std::string body = R"({"meta":{"users":[{"no":1}]},"user":[2],"users2":[3],)"
                           R"("users":[{"users":[4]}],"x":[{"b":2}],"y":"users"})";
        outcome got = read_rows(body, piece);
        CHECK(code_of(got) == "none");
        CHECK(got.rows == rows{R"({"users":[4]})"});
    }
    SECTION("a repeated key is refused: its last value cannot win once the first array's rows are out") {
        outcome got = read_rows(R"({"users":[{"a":1}],"users":[{"b":2}]})", piece);
        CHECK(code_of(got) == "duplicate_key");
        CHECK(code_of(read_rows(R"({"users":[1],"other":2,"us\u0065rs":"x"})", piece)) == "duplicate_key");
        CHECK(code_of(read_rows(R"({"users":null,"users":[1]})", piece)) == "duplicate_key");
    }
    SECTION("the key is matched after unescaping") {
        outcome got = read_rows(R"({"us\u0065rs":[1]})", piece);
        CHECK(got.rows == rows{"1"});
    }
}

TEST_CASE("bulk json reader re-escapes strings so they round-trip", "[bulk_json]") {
    // Control characters, quotes, backslashes, an escaped slash, non-ASCII,
    // a surrogate pair and U+2028, in keys and in values.
    std::string element = R"({"k\n\"\\":"\u0000\u0001\u001f\b\f\n\r\t\"\\\/\u00e9\ud83d\ude00\u2028 raw é","a":["\u007f"]})";
    std::string body = "{\"users\":[" + element + "]}";

    SECTION("the emitted text is exactly what Boost.JSON's serializer writes") {
        auto piece = GENERATE(std::size_t{0}, 1, 2, 5);
        CAPTURE(piece);
        outcome got = read_rows(body, piece);
        REQUIRE(code_of(got) == "none");
        REQUIRE(got.rows.size() == 1);
        CHECK(got.rows[0] == boost::json::serialize(boost::json::parse(element)));
        CHECK(got.rows[0] ==
              "{\"k\\n\\\"\\\\\":\"\\u0000\\u0001\\u001f\\b\\f\\n\\r\\t\\\"\\\\/\xC3\xA9\xF0\x9F\x98\x80\xE2\x80\xA8 raw "
              "\xC3\xA9\",\"a\":[\"\x7f\"]}");
        CHECK(boost::json::parse(got.rows[0]) == boost::json::parse(element));
    }
    SECTION("any two-piece split gives the same row") {
        for (std::size_t cut = 0; cut <= body.size(); ++cut) {
            CAPTURE(cut);
            std::vector<std::string> got;
            bulk_json_reader reader("users", [&](std::string_view row) { got.emplace_back(row); });
            reader.feed(std::string_view(body).substr(0, cut));
            reader.feed(std::string_view(body).substr(cut));
            reader.finish();
            REQUIRE_FALSE(reader.error());
            REQUIRE(got.size() == 1);
            REQUIRE(boost::json::parse(got[0]) == boost::json::parse(element));
        }
    }
}

TEST_CASE("bulk json reader passes out-of-range numbers through as written", "[bulk_json]") {
    // Boost.JSON 1.81 accepts 1e400 and reads it as infinity; the row keeps
    // the text so the row validator sees the same value the client sent.
    outcome got = read_rows(R"({"users":[{"big":1e400,"tiny":-1E-400}]})", 3);
    REQUIRE(code_of(got) == "none");
    REQUIRE(got.rows == rows{R"({"big":1e400,"tiny":-1E-400})"});
    boost::json::value row = boost::json::parse(got.rows[0]);
    CHECK(std::isinf(row.at("big").as_double()));
    CHECK(row.at("tiny").as_double() == 0.0);
}

TEST_CASE("bulk json reader reports a missing array at finish", "[bulk_json]") {
    auto [body, what] = GENERATE(table<std::string, std::string>({
        {R"([{"user_id":"u1"}])", "top level is an array"},
        {R"("users")", "top level is a string"},
        {R"(42)", "top level is a number"},
        {R"({})", "empty object"},
        {R"({"companies":[{"company_id":"c"}]})", "other key only"},
        {R"({"meta":{"users":[1]}})", "key only nested"},
        {R"({"users":{"user_id":"u1"}})", "key holds an object"},
        {R"({"users":"u1"})", "key holds a string"},
    }));
    CAPTURE(what);
    outcome got = read_rows(body, 2);
    CHECK(code_of(got) == "missing_array");
    CHECK(got.rows.empty());
    CHECK_FALSE(got.error->message.empty());
}

TEST_CASE("bulk json reader reports invalid JSON wherever the input is split", "[bulk_json]") {
    auto piece = GENERATE(std::size_t{0}, 1, 2, 3, 7, 64);
    auto [body, what] = GENERATE(table<std::string, std::string>({
        {R"({"users":[{"a":1,}]})", "trailing comma"},
        {R"({"users":[{"a":tru}]})", "bad literal"},
        {R"({"users":[{"a":01}]})", "leading zero"},
        {R"({"users":[{"a":"x}]})", "unterminated string"},
        {R"({"users":[{"a":1})", "truncated"},
        {R"({"users":[{"a":"\ud800"}]})", "lone surrogate"},
        {"{\"users\":[{\"a\":\"\xff\"}]}", "invalid UTF-8"},
        {"{\"users\":[{\"a\":\"tab\there\"}]}", "raw control character"},
        {R"({"users":[]} // comment)", "comment"},
        {R"({"users":[]} x)", "data after the document"},
        {R"({"users":[]}{"users":[]})", "second document"},
        {"", "empty body"},
        {"  \n ", "whitespace only"},
    }));
    CAPTURE(piece, what);
    outcome got = read_rows(body, piece);
    CHECK(code_of(got) == "invalid_json");
    CHECK_FALSE(got.error->message.empty());
}

TEST_CASE("bulk json reader locates errors approximately", "[bulk_json]") {
    std::string body = "{\"users\":[";
    for (int i = 0; i < 1000; ++i) body += "{\"user_id\":\"u" + std::to_string(i) + "\"},";
    const std::size_t bad_at = body.size();
    body += "?]}";
    auto piece = GENERATE(std::size_t{0}, 1000, 65536);
    CAPTURE(piece);
    outcome got = read_rows(body, piece);
    REQUIRE(code_of(got) == "invalid_json");
    CHECK(got.error->offset <= bad_at);
    CHECK(got.error->offset + 4096 > bad_at);
    // Rows before the error were already handed out; the caller discards them.
    CHECK(got.rows.size() == 1000);

    SECTION("data after the document is located exactly") {
        outcome extra = read_rows(R"({"users":[]}   x)", piece);
        REQUIRE(code_of(extra) == "invalid_json");
        CHECK(extra.error->offset == 15);
    }
}

TEST_CASE("bulk json reader enforces the nesting limit", "[bulk_json]") {
    auto piece = GENERATE(std::size_t{0}, 1, 4);
    CAPTURE(piece);

    SECTION("depth counts from the top-level object") {
        // Object 1, array 2, row 3, "a" 4, "b" 5.
        CHECK(code_of(read_rows(R"({"users":[{"a":{"b":{}}}]})", piece, "users", 5)) == "none");
        outcome got = read_rows(R"({"users":[{"a":{"b":{"c":[]}}}]})", piece, "users", 5);
        CHECK(code_of(got) == "too_deep");
        CHECK(got.rows.empty());
    }
    SECTION("the default allows 32 levels") {
        auto nested = [](int levels) {
            // The object and the array are the first two levels.
            return "{\"users\":" + std::string(levels - 1, '[') + std::string(levels - 1, ']') + "}";
        };
        CHECK(code_of(read_rows(nested(32), piece)) == "none");
        CHECK(code_of(read_rows(nested(33), piece)) == "too_deep");
    }
    SECTION("deep values outside the array count too") {
        std::string body = "{\"other\":" + std::string(40, '[') + std::string(40, ']') + ",\"users\":[]}";
        CHECK(code_of(read_rows(body, piece)) == "too_deep");
    }
}

TEST_CASE("bulk json reader enforces the row size limit", "[bulk_json]") {
    auto piece = GENERATE(std::size_t{0}, 1, 3);
    CAPTURE(piece);
    const std::size_t limit = 20;

    SECTION("a row of exactly the limit passes, one byte more fails") {
        // {"a":"xxxxxxxxxxxx"} is 20 bytes.
        std::string fits = R"({"a":"xxxxxxxxxxxx"})";
        REQUIRE(fits.size() == limit);
        outcome ok = read_rows("{\"users\":[" + fits + "]}", piece, "users", 32, limit);
        CHECK(code_of(ok) == "none");
        CHECK(ok.rows == rows{fits});
        outcome big = read_rows(R"({"users":[{"a":"x"},{"a":"xxxxxxxxxxxxx"}]})", piece, "users", 32, limit);
        CHECK(code_of(big) == "row_too_large");
        CHECK(big.rows == rows{R"({"a":"x"})"});
    }
    SECTION("the limit applies to the compact text, not the source") {
        // Whitespace and \u0078 escapes make the source longer than the 20-byte row.
        outcome got = read_rows("{\"users\":[ {  \"a\"  :  \"\\u0078\\u0078xxxxxxxxxx\"  } ]}", piece, "users",
                                32, limit);
        CHECK(code_of(got) == "none");
        CHECK(got.rows == rows{R"({"a":"xxxxxxxxxxxx"})"});
    }
    SECTION("a bare string element is limited too") {
        outcome got = read_rows("{\"users\":[\"" + std::string(100, 'x') + "\"]}", piece, "users", 32, limit);
        CHECK(code_of(got) == "row_too_large");
    }
    SECTION("large values outside the array are not rows") {
        std::string body = "{\"note\":\"" + std::string(1000, 'x') + "\",\"users\":[1]}";
        outcome got = read_rows(body, piece, "users", 32, limit);
        CHECK(code_of(got) == "none");
        CHECK(got.rows == rows{"1"});
    }
}

TEST_CASE("bulk json reader ignores input after an error", "[bulk_json]") {
    std::vector<std::string> got;
    bulk_json_reader reader("users", [&](std::string_view row) { got.emplace_back(row); });
    reader.feed(R"({"users":[1,}])");
    REQUIRE(reader.error());
    reader.feed(R"(2,3]})");
    reader.finish();
    CHECK(reader.error()->code == "invalid_json");
    CHECK(got == rows{"1"});
    CHECK(reader.rows_emitted() == 1);
}

TEST_CASE("bulk json reader counts rows and survives a move", "[bulk_json]") {
    std::vector<std::string> got;
    bulk_json_reader first("users", [&](std::string_view row) { got.emplace_back(row); });
    first.feed(R"({"users":[{"a":1},{"b")");
    bulk_json_reader second = std::move(first);
    second.feed(R"(:2}]})");
    second.finish();
    CHECK_FALSE(second.error());
    CHECK(second.rows_emitted() == 2);
    CHECK(got == rows{R"({"a":1})", R"({"b":2})"});
}
