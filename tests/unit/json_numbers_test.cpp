// Number literals Boost.JSON would read as another number: classified one by one, found in a text with their
// path, and refused by parse_json_object with number_out_of_range.
#include <string>
#include <tuple>

#include <boost/json/serialize.hpp>
#include <catch2/catch.hpp>

#include "common/formats/json_numbers.hpp"
#include "common/profiles/requests.hpp"

using namespace profiled;

namespace {

// The name of a verdict, so that a failed check reads well.
const char* fit_name(number_fit fit)
{
    switch (fit) {
    case number_fit::fits: return "fits";
    case number_fit::integer_too_large: return "integer_too_large";
    case number_fit::overflow: return "overflow";
    case number_fit::underflow: return "underflow";
    }
    return "?";
}

} // namespace

TEST_CASE("integer literals fit int64 when negative and uint64 otherwise", "[json_numbers]")
{
    std::string literal;
    number_fit expected = number_fit::fits;
    std::tie(literal, expected) = GENERATE(table<std::string, number_fit>({
        {"0", number_fit::fits},
        {"-0", number_fit::fits},
        {"42", number_fit::fits},
        {"9223372036854775807", number_fit::fits},   // int64 max
        {"9223372036854775808", number_fit::fits},   // read as uint64
        {"18446744073709551615", number_fit::fits},  // uint64 max
        {"18446744073709551616", number_fit::integer_too_large},
        {"99999999999999999999", number_fit::integer_too_large},
        {"-9223372036854775808", number_fit::fits},  // int64 min
        {"-9223372036854775809", number_fit::integer_too_large},
        {"-18446744073709551615", number_fit::integer_too_large}, // no negative uint64
        {std::string(5000, '7'), number_fit::integer_too_large},
        {"-" + std::string(5000, '7'), number_fit::integer_too_large},
    }));
    CAPTURE(literal);
    CHECK(fit_name(classify_number(literal)) == std::string(fit_name(expected)));
}

TEST_CASE("literals with a fraction or exponent must not overflow or underflow", "[json_numbers]")
{
    std::string literal;
    number_fit expected = number_fit::fits;
    std::tie(literal, expected) = GENERATE(table<std::string, number_fit>({
        {"0.0", number_fit::fits},
        {"-0.0", number_fit::fits},
        {"1.5", number_fit::fits},
        {"-2.25e-3", number_fit::fits},
        {"1e308", number_fit::fits},
        {"1.7976931348623157e308", number_fit::fits}, // the largest double
        {"-1.7976931348623157E+308", number_fit::fits},
        // strtod rounds this down to the largest double; Boost.JSON 1.81 reads infinity, and that is what counts.
        {"1.7976931348623158e308", number_fit::overflow},
        {"1e309", number_fit::overflow},
        {"1e400", number_fit::overflow},
        {"-1E400", number_fit::overflow},
        {"1e99999999999999999999", number_fit::overflow},
        {"1" + std::string(400, '0') + ".5", number_fit::overflow},
        {"0.000" + std::string(300, '0') + "1e400", number_fit::fits}, // 1e96: the leading zeros count
        {"0.000" + std::string(300, '0') + "1e620", number_fit::overflow}, // 1e316
        {"1e-400", number_fit::underflow},
        {"-1E-400", number_fit::underflow},
        {"1e-325", number_fit::underflow},
        {"2.4703282292062327e-324", number_fit::underflow}, // below half the smallest denormal
        {"2.4703282292062328e-324", number_fit::underflow}, // strtod: the smallest denormal; Boost.JSON: 0
        {"0." + std::string(400, '0') + "1", number_fit::underflow},
        {"1e-99999999999999999999", number_fit::underflow},
        // Denormals are read as the nearest double and read back as it: kept. 5e-324 is the smallest.
        {"5e-324", number_fit::fits},
        {"4.9406564584124654e-324", number_fit::fits},
        {"1e-310", number_fit::fits},
        {"2.2250738585072014e-308", number_fit::fits}, // the smallest normal double
        // Zero is zero whatever its exponent, unless Boost.JSON turns it into NaN (0 times an infinite power).
        {"0e-400", number_fit::fits},
        {"0.000e-99999", number_fit::fits},
        {"0e308", number_fit::fits},
        {"0e400", number_fit::overflow},
        {"-0.0e309", number_fit::fits}, // 0.0e309 is 0e308 to Boost.JSON
        {"-0.0e310", number_fit::overflow},
    }));
    CAPTURE(literal);
    CHECK(fit_name(classify_number(literal)) == std::string(fit_name(expected)));
}

TEST_CASE("the scan finds the first unfit literal and its path, and skips strings", "[json_numbers]")
{
    std::string text, number, path;
    std::tie(text, number, path) = GENERATE(table<std::string, std::string, std::string>({
        {R"({"a":1,"b":1.5,"c":[1e-3,-2]})", "", ""},
        {R"({"metadata":{"n":1e400}})", "1e400", "metadata.n"},
        {R"({"list":[1.5,2,18446744073709551616]})", "18446744073709551616", "list[2]"},
        {R"({"a":[[0],[1,{"b":[1e-400]}]]})", "1e-400", "a[1][1].b[0]"},
        {R"({"first":1e999,"second":1e-999})", "1e999", "first"},
        // Numbers inside strings are text, whatever they look like; escaped quotes do not end a string.
        {R"({"s":"1e400","t":"-18446744073709551616 \" 1e999","u":"\\","v":1.5})", "", ""},
        {R"({"s":"say \"1e400\"","n":1e400})", "1e400", "n"},
        // A string value is not a key; after an empty object or array the next key is found again.
        {R"({"k":"v","e":{},"f":[],"g":{"h":"x","i":1e400}})", "1e400", "g.i"},
        {R"({"a\"b":1e400})", "1e400", R"(a\"b)"},
        {R"({"sp" : [ 1 , 2.5 ,	-1e400 ]})", "-1e400", "sp[2]"},
        {R"({"true":true,"false":false,"null":null,"e":2e5})", "", ""},
        {R"([1,2e500])", "2e500", "[1]"},
        {"1e400", "1e400", ""},
    }));
    CAPTURE(text);
    auto found = find_unfit_number(text);
    if (number.empty()) {
        CHECK_FALSE(found);
        return;
    }
    REQUIRE(found);
    CHECK(std::string(found->text) == number);
    CHECK(found->path == path);
    CHECK(found->fit != number_fit::fits);
}

TEST_CASE("parse_json_object refuses a number it would store as another", "[json_numbers][requests]")
{
    std::string body, field, quoted;
    std::tie(body, field, quoted) = GENERATE(table<std::string, std::string, std::string>({
        {R"({"user_id":"u","metadata":{"n":18446744073709551616}})", "metadata.n", "18446744073709551616"},
        {R"({"user_id":"u","metadata":{"n":-9223372036854775809}})", "metadata.n", "-9223372036854775809"},
        {R"({"user_id":"u","metadata":{"n":1e400}})", "metadata.n", "1e400"},
        {R"({"user_id":"u","metadata":{"n":0e400}})", "metadata.n", "0e400"},
        {R"({"user_id":"u","metadata":{"tiny":1e-400}})", "metadata.tiny", "1e-400"},
        {R"({"n":1E400})", "n", "1E400"},
        {R"({"list":[1,2,1e-999]})", "list[2]", "1e-999"},
    }));
    CAPTURE(body);
    auto r = parse_json_object(body);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().kind == errc::bad_request);
    CHECK(r.error().code == "number_out_of_range");
    CHECK(r.error().field == field);
    CHECK(r.error().message.find(quoted) != std::string::npos);
    CHECK(r.error().message.find(field) != std::string::npos);
}

TEST_CASE("parse_json_object names a long number by its first 40 characters", "[json_numbers][requests]")
{
    std::string digits = "1234567890" + std::string(4990, '0');
    auto r = parse_json_object(R"({"metadata":{"big":)" + digits + "}}");
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == "number_out_of_range");
    CHECK(r.error().message.find(digits.substr(0, 40) + "...") != std::string::npos);
    CHECK(r.error().message.find(digits.substr(0, 41)) == std::string::npos);
    CHECK(r.error().message.find("5000 characters") != std::string::npos);
    CHECK(r.error().message.size() < 400);
}

TEST_CASE("parse_json_object keeps every number that fits exactly as read", "[json_numbers][requests]")
{
    std::string body = R"({"a":9223372036854775807,"b":18446744073709551615,"c":-9223372036854775808,)"
                       R"("d":1.5,"e":1e308,"f":5e-324,"g":0e-400,"h":-0.0,"s":"1e400"})";
    auto r = parse_json_object(body);
    REQUIRE(r.has_value());
    const auto& o = *r;
    CHECK(o.at("a").as_int64() == 9223372036854775807LL);
    CHECK(o.at("b").as_uint64() == 18446744073709551615ULL);
    CHECK(o.at("c").as_int64() == -9223372036854775807LL - 1);
    CHECK(o.at("d").as_double() == 1.5);
    CHECK(o.at("e").as_double() == 1e308);
    CHECK(o.at("f").as_double() > 0);
    CHECK(o.at("g").as_double() == 0);
    CHECK(o.at("s").as_string() == "1e400");
    // Without a double in the tree no scan runs, and integers at the limits are kept.
    auto ints = parse_json_object(R"({"big":18446744073709551615,"small":-9223372036854775808})");
    REQUIRE(ints.has_value());
    CHECK(boost::json::serialize(*ints) == R"({"big":18446744073709551615,"small":-9223372036854775808})");
}
