// $union on large and oddly typed lists: the hashed index behind it must agree with JSON equality,
// and a request-sized union must not take time quadratic in its length.
#include <string>
#include <tuple>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <catch2/catch.hpp>

#include "common/profiles/people_operations.hpp"

namespace json = boost::json;
using profiled::apply_people_operations;
using profiled::parse_people_operations;

namespace {

// The properties after applying the operations object written as JSON text.
json::object applied(const std::string& stored, const std::string& operations)
{
    auto ops = parse_people_operations(json::parse(operations).as_object());
    REQUIRE(ops.has_value());
    auto result = apply_people_operations(json::parse(stored).as_object(), *ops);
    REQUIRE(result.has_value());
    return *result;
}

} // namespace

TEST_CASE("$union treats values as equal exactly when JSON equality does", "[people][operations][union]")
{
    std::string stored, operations, expected;
    std::tie(stored, operations, expected) = GENERATE(table<std::string, std::string, std::string>({
        // An int64 and a uint64 of the same value are one value.
        {R"({"l":[1]})", R"({"$union":{"l":[1,18446744073709551615,18446744073709551615]}})",
         R"([1,18446744073709551615])"},
        // 0.0 and -0.0 compare equal; 1 and 1.0 do not (one is an integer, one a double).
        {R"({"l":[0.0]})", R"({"$union":{"l":[-0.0,1,1.0]}})", R"([0E0,1,1E0])"},
        // Objects are equal whatever the order of their members; arrays are not.
        {R"({"l":[{"a":1,"b":[1,2]}]})", R"({"$union":{"l":[{"b":[1,2],"a":1},{"a":1,"b":[2,1]}]}})",
         R"([{"a":1,"b":[1,2]},{"a":1,"b":[2,1]}])"},
        // Strings, booleans and null, with repeats inside the operand itself.
        {R"({})", R"({"$union":{"l":["x",true,null,"x",false,null,true,"y"]}})", R"(["x",true,null,false,"y"])"},
    }));
    CAPTURE(stored, operations);
    auto result = applied(stored, operations);
    CHECK(json::serialize(result.at("l")) == expected);
}

TEST_CASE("$union of a request-sized list of distinct values completes and keeps each once", "[people][operations][union]")
{
    // About 600 KB of JSON: a linear search per element made this take minutes.
    const int n = 100000;
    std::string list;
    for (int i = 0; i < n; ++i)
        list += (i ? "," : "") + std::to_string(i);
    auto result = applied(R"({"l":[0,1,2]})", R"({"$union":{"l":[)" + list + "," + list + "]}}");
    const auto& l = result.at("l").as_array();
    REQUIRE(l.size() == static_cast<std::size_t>(n));
    CHECK(l[0] == 0);
    CHECK(l[3] == 3);
    CHECK(l[n - 1] == n - 1);
}
