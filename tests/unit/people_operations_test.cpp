// The People API's operations engine: parsing an operations object and applying it to properties.
#include <string>
#include <tuple>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <catch2/catch.hpp>

#include "common/profiles/people_operations.hpp"

using namespace profiled;
namespace json = boost::json;

namespace {

// A JSON object written as text.
json::object object_of(const std::string& text) { return json::parse(text).as_object(); }

// The properties after applying the operations (both as JSON text), or the error's code and field.
struct outcome {
    std::optional<json::object> properties;
    std::string code;
    std::string field;
};
outcome apply_text(const std::string& operations, const std::string& properties)
{
    auto ops = parse_people_operations(object_of(operations));
    if (!ops)
        return {std::nullopt, ops.error().code, ops.error().field};
    auto after = apply_people_operations(object_of(properties), *ops);
    if (!after)
        return {std::nullopt, after.error().code, after.error().field};
    return {std::move(*after), "", ""};
}

} // namespace

TEST_CASE("each operation changes the properties as documented", "[people_operations]")
{
    std::string operations, before, after;
    std::tie(operations, before, after) = GENERATE(table<std::string, std::string, std::string>({
        // $set overwrites, adds, and stores null as null.
        {R"({"$set":{"plan":"pro","n":null}})", R"({"plan":"free","keep":1})", R"({"plan":"pro","keep":1,"n":null})"},
        // $set_once only where the property is absent; a stored null counts as present.
        {R"({"$set_once":{"a":1,"b":2,"c":3}})", R"({"a":0,"b":null})", R"({"a":0,"b":null,"c":3})"},
        // $add: a missing or null property counts as 0.
        {R"({"$add":{"n":1}})", R"({})", R"({"n":1})"},
        {R"({"$add":{"n":5}})", R"({"n":null})", R"({"n":5})"},
        {R"({"$add":{"n":-3}})", R"({"n":10})", R"({"n":7})"},
        {R"({"$add":{"n":0.5}})", R"({"n":1})", R"({"n":1.5})"},
        {R"({"$add":{"n":1}})", R"({"n":2.25})", R"({"n":3.25})"},
        // Integers stay integers past the int64 range while they fit in 64 bits, then become doubles.
        {R"({"$add":{"n":1}})", R"({"n":9223372036854775807})", R"({"n":9223372036854775808})"},
        {R"({"$add":{"n":1}})", R"({"n":18446744073709551615})", R"({"n":1.8446744073709552E19})"},
        {R"({"$add":{"n":-1}})", R"({"n":-9223372036854775808})", R"({"n":-9.223372036854776E18})"},
        // $append: the value becomes one element; missing or null becomes a one-element list.
        {R"({"$append":{"tags":"new"}})", R"({})", R"({"tags":["new"]})"},
        {R"({"$append":{"tags":"new"}})", R"({"tags":null})", R"({"tags":["new"]})"},
        {R"({"$append":{"tags":"new"}})", R"({"tags":["old"]})", R"({"tags":["old","new"]})"},
        {R"({"$append":{"tags":["a","b"]}})", R"({"tags":["old"]})", R"({"tags":["old",["a","b"]]})"},
        {R"({"$append":{"tags":"old"}})", R"({"tags":["old"]})", R"({"tags":["old","old"]})"},
        // $union: elements not already present, each once.
        {R"({"$union":{"i":["golf","chess","golf"]}})", R"({})", R"({"i":["golf","chess"]})"},
        {R"({"$union":{"i":["golf","tennis"]}})", R"({"i":["golf"]})", R"({"i":["golf","tennis"]})"},
        {R"({"$union":{"i":[1.0,{"k":1}]}})", R"({"i":[1,{"k":1}]})", R"({"i":[1,{"k":1},1E0]})"},
        {R"({"$union":{"i":[]}})", R"({"i":null})", R"({"i":[]})"},
        // $remove: every equal element; a missing or null property stays as it is.
        {R"({"$remove":{"t":"a"}})", R"({"t":["a","b","a"]})", R"({"t":["b"]})"},
        {R"({"$remove":{"t":{"k":1}}})", R"({"t":[{"k":1},{"k":2}]})", R"({"t":[{"k":2}]})"},
        {R"({"$remove":{"t":"z"}})", R"({"t":["a"]})", R"({"t":["a"]})"},
        {R"({"$remove":{"t":"a"}})", R"({})", R"({})"},
        {R"({"$remove":{"t":"a"}})", R"({"t":null})", R"({"t":null})"},
        // $unset deletes; naming an absent property is fine.
        {R"({"$unset":["a","missing"]})", R"({"a":1,"b":2})", R"({"b":2})"},
        // null operands and an empty operations object change nothing.
        {R"({"$set":null,"$add":null,"$unset":null})", R"({"a":1})", R"({"a":1})"},
        {R"({})", R"({"a":1})", R"({"a":1})"},
        // The documented order: $set, $set_once, $add, $append, $union, $remove, $unset.
        {R"({"$add":{"n":2},"$set":{"n":1}})", R"({})", R"({"n":3})"},
        {R"({"$set_once":{"p":"once"},"$set":{"p":"set"}})", R"({})", R"({"p":"set"})"},
        {R"({"$remove":{"l":"x"},"$append":{"l":"x"}})", R"({"l":["y"]})", R"({"l":["y"]})"},
        {R"({"$union":{"l":["x"]},"$remove":{"l":"x"}})", R"({})", R"({"l":[]})"},
        {R"({"$unset":["s"],"$set":{"s":1}})", R"({})", R"({})"},
        // $email and $phone are ordinary properties to the engine once validated.
        {R"({"$set":{"$email":"a@example.com"},"$set_once":{"$phone":"+14155550123"}})", R"({})",
         R"({"$email":"a@example.com","$phone":"+14155550123"})"},
    }));
    CAPTURE(operations, before);
    auto result = apply_text(operations, before);
    INFO("error " << result.code << " " << result.field);
    REQUIRE(result.properties);
    CHECK(json::serialize(*result.properties) == json::serialize(object_of(after)));
}

TEST_CASE("an operation that does not fit the stored value is refused as a whole", "[people_operations][atomicity]")
{
    std::string operations, before, field;
    std::tie(operations, before, field) = GENERATE(table<std::string, std::string, std::string>({
        {R"({"$add":{"n":1}})", R"({"n":"five"})", "operations.$add.n"},
        {R"({"$add":{"n":1}})", R"({"n":true})", "operations.$add.n"},
        {R"({"$add":{"n":1}})", R"({"n":[1]})", "operations.$add.n"},
        {R"({"$add":{"n":1}})", R"({"n":{"v":1}})", "operations.$add.n"},
        {R"({"$append":{"t":"x"}})", R"({"t":"scalar"})", "operations.$append.t"},
        {R"({"$append":{"t":"x"}})", R"({"t":{"k":1}})", "operations.$append.t"},
        {R"({"$union":{"t":["x"]}})", R"({"t":7})", "operations.$union.t"},
        {R"({"$remove":{"t":"x"}})", R"({"t":"x"})", "operations.$remove.t"},
        // The $set in the same request is not applied either: the caller keeps its properties.
        {R"({"$set":{"plan":"pro"},"$add":{"plan":1}})", R"({})", "operations.$add.plan"},
    }));
    CAPTURE(operations, before);
    auto result = apply_text(operations, before);
    CHECK_FALSE(result.properties);
    CHECK(result.code == "type_conflict");
    CHECK(result.field == field);
}

TEST_CASE("an $add whose sum leaves the finite doubles is refused", "[people_operations][limits]")
{
    auto result = apply_text(R"({"$add":{"n":1.7e308}})", R"({"n":1.7e308})");
    CHECK_FALSE(result.properties);
    CHECK(result.code == "invalid_field");
    CHECK(result.field == "operations.$add.n");
}

TEST_CASE("parse_people_operations refuses unknown operations and operands of the wrong type",
          "[people_operations][validation]")
{
    std::string operations, code, field;
    std::tie(operations, code, field) = GENERATE(table<std::string, std::string, std::string>({
        {R"({"$increment":{"n":1}})", "unknown_operation", "operations.$increment"},
        {R"({"set":{"n":1}})", "unknown_operation", "operations.set"},
        {R"({"plan":"pro"})", "unknown_operation", "operations.plan"},
        {R"({"$set":["plan","pro"]})", "invalid_field", "operations.$set"},
        {R"({"$set_once":"x"})", "invalid_field", "operations.$set_once"},
        {R"({"$append":1})", "invalid_field", "operations.$append"},
        {R"({"$remove":[1]})", "invalid_field", "operations.$remove"},
        {R"({"$add":{"n":"1"}})", "invalid_field", "operations.$add.n"},
        {R"({"$add":{"n":true}})", "invalid_field", "operations.$add.n"},
        {R"({"$add":{"n":null}})", "invalid_field", "operations.$add.n"},
        {R"({"$add":{"n":[1]}})", "invalid_field", "operations.$add.n"},
        {R"({"$union":{"i":"golf"}})", "invalid_field", "operations.$union.i"},
        {R"({"$union":{"i":{"a":1}}})", "invalid_field", "operations.$union.i"},
        {R"({"$unset":"plan"})", "invalid_field", "operations.$unset"},
        {R"({"$unset":{"plan":true}})", "invalid_field", "operations.$unset"},
        {R"({"$unset":["plan",3]})", "invalid_field", "operations.$unset[1]"},
        {R"({"$set":{"$email":"nobody"}})", "invalid_field", "operations.$set.$email"},
        {R"({"$set":{"$email":42}})", "invalid_field", "operations.$set.$email"},
        {R"({"$set_once":{"$phone":"555-0123"}})", "invalid_field", "operations.$set_once.$phone"},
        {R"({"$add":{"$email":1}})", "invalid_field", "operations.$add.$email"},
        {R"({"$append":{"$phone":"+14155550123"}})", "invalid_field", "operations.$append.$phone"},
        {R"({"$union":{"$email":["a@example.com"]}})", "invalid_field", "operations.$union.$email"},
        {R"({"$remove":{"$phone":"+14155550123"}})", "invalid_field", "operations.$remove.$phone"},
    }));
    CAPTURE(operations);
    auto ops = parse_people_operations(object_of(operations));
    REQUIRE_FALSE(ops.has_value());
    CHECK(ops.error().kind == errc::bad_request);
    CHECK(ops.error().code == code);
    CHECK(ops.error().field == field);
    CHECK(ops.error().message.find(field) != std::string::npos);
}

TEST_CASE("check_contact_properties allows a valid $email / $phone or null, nothing else", "[people_operations][contact]")
{
    std::string properties, field;
    std::tie(properties, field) = GENERATE(table<std::string, std::string>({
        {R"({"$email":"test@test.com","$phone":"+14155550123","$name":"John"})", ""},
        {R"({"$email":null,"$phone":null})", ""},
        {R"({"email":"not checked","phone":5})", ""},
        {R"({"$email":"test at test.com"})", "properties.$email"},
        {R"({"$email":["a@example.com"]})", "properties.$email"},
        {R"({"$phone":"+1 415 555 0123"})", "properties.$phone"},
        {R"({"$phone":14155550123})", "properties.$phone"},
    }));
    CAPTURE(properties);
    auto error = check_contact_properties(object_of(properties), "properties");
    if (field.empty()) {
        CHECK_FALSE(error);
    } else {
        REQUIRE(error);
        CHECK(error->field == field);
    }
}
