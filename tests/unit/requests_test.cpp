// Request validation: each bad body gets its own error code and names the field that is wrong.
#include <string>
#include <tuple>

#include <boost/json/value.hpp>
#include <catch2/catch.hpp>

#include "common/profiles/requests.hpp"

using namespace profiled;
namespace json = boost::json;

namespace {

// value nested depth levels deep in arrays, e.g. [[[1]]] for depth 3.
std::string nested_arrays(int depth)
{
    return std::string(static_cast<std::size_t>(depth), '[') + "1" + std::string(static_cast<std::size_t>(depth), ']');
}

// text repeated n times.
std::string repeat(const std::string& text, int n)
{
    std::string out;
    for (int i = 0; i < n; ++i)
        out += text;
    return out;
}

// The identify body, parsed, then validated.
result<identify_request> identify(const std::string& body)
{
    auto parsed = parse_json_object(body);
    REQUIRE(parsed.has_value());
    return parse_identify(*parsed);
}

} // namespace

TEST_CASE("a body must be one JSON object", "[requests]")
{
    std::string body, code;
    std::tie(body, code) = GENERATE(table<std::string, std::string>({
        {"", "empty_body"},
        {"not json", "invalid_json"},
        {"{\"user_id\":", "invalid_json"},
        {"{\"user_id\":\"u\"} trailing", "invalid_json"},
        {"[{\"user_id\":\"u\"}]", "invalid_json"},
        {"\"user_001\"", "invalid_json"},
        {"null", "invalid_json"},
        {"{\"a\":\"\xff\"}", "invalid_json"},
    }));
    CAPTURE(body);
    auto r = parse_json_object(body);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().kind == errc::bad_request);
    CHECK(r.error().code == code);
    CHECK_FALSE(r.error().message.empty());
}

TEST_CASE("nesting up to 32 levels is accepted, deeper is too_deep", "[requests]")
{
    // The outer object is level 1.
    auto at_limit = parse_json_object("{\"a\":" + nested_arrays(31) + "}");
    CHECK(at_limit.has_value());
    auto over = parse_json_object("{\"a\":" + nested_arrays(32) + "}");
    REQUIRE_FALSE(over.has_value());
    CHECK(over.error().code == "too_deep");
    CHECK(over.error().message.find("32") != std::string::npos);
    auto far_over = parse_json_object("{\"a\":" + nested_arrays(5000) + "}");
    REQUIRE_FALSE(far_over.has_value());
    CHECK(far_over.error().code == "too_deep");
}

TEST_CASE("identify refuses bad fields and names them", "[requests][identify]")
{
    std::string body, code, field;
    std::tie(body, code, field) = GENERATE(table<std::string, std::string, std::string>({
        {R"({})", "missing_field", "user_id"},
        {R"({"user_id":null})", "missing_field", "user_id"},
        {R"({"user_id":""})", "invalid_field", "user_id"},
        {R"({"user_id":42})", "invalid_field", "user_id"},
        {R"({"user_id":["u"]})", "invalid_field", "user_id"},
        {R"({"user_id":{"id":"u"}})", "invalid_field", "user_id"},
        {"{\"user_id\":\"" + std::string(256, 'x') + "\"}", "invalid_field", "user_id"},
        // 128 two-byte characters: only 128 characters, but 256 bytes.
        {"{\"user_id\":\"" + repeat("\xc3\xa9", 128) + "\"}", "invalid_field", "user_id"},
        {R"({"user_id":"u","metadata":[1]})", "invalid_field", "metadata"},
        {R"({"user_id":"u","metadata":"name=Jane"})", "invalid_field", "metadata"},
        {R"({"user_id":"u","metadata":5})", "invalid_field", "metadata"},
        {R"({"user_id":"u","company":"company_001"})", "invalid_field", "company"},
        {R"({"user_id":"u","company":{}})", "missing_field", "company.id"},
        {R"({"user_id":"u","company":{"name":"Acme"}})", "missing_field", "company.id"},
        {R"({"user_id":"u","company":{"id":""}})", "invalid_field", "company.id"},
        {R"({"user_id":"u","company":{"id":7}})", "invalid_field", "company.id"},
        {R"({"user_id":"u","company":{"company_id":false}})", "invalid_field", "company.company_id"},
        {"{\"user_id\":\"u\",\"company\":{\"id\":\"" + std::string(256, 'c') + "\"}}", "invalid_field",
         "company.id"},
    }));
    CAPTURE(body);
    auto r = identify(body);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().kind == errc::bad_request);
    CHECK(r.error().code == code);
    CHECK(r.error().field == field);
    // The message names the field too, for people reading it without the details.
    CHECK(r.error().message.find(field) != std::string::npos);
}

TEST_CASE("identify accepts what the documents allow", "[requests][identify]")
{
    SECTION("user_id alone")
    {
        auto r = identify(R"({"user_id":"user_001"})");
        REQUIRE(r.has_value());
        CHECK(r->user.user_id == "user_001");
        CHECK(r->user.properties.empty());
        CHECK_FALSE(r->user.company_id);
        CHECK_FALSE(r->company);
    }
    SECTION("an id of exactly 255 bytes, multi-byte characters counted in bytes")
    {
        std::string id = repeat("\xc3\xa9", 127) + "x";
        auto r = identify("{\"user_id\":\"" + id + "\"}");
        REQUIRE(r.has_value());
        CHECK(r->user.user_id == id);
    }
    SECTION("metadata becomes the properties, null values included; a null metadata is none")
    {
        auto r = identify(R"({"user_id":"u","metadata":{"name":"Jane Doe","vip":null,"tags":["a"]}})");
        REQUIRE(r.has_value());
        CHECK(r->user.properties.at("name") == "Jane Doe");
        CHECK(r->user.properties.at("vip").is_null());
        CHECK(r->user.properties.at("tags") == json::array{"a"});
        auto none = identify(R"({"user_id":"u","metadata":null,"company":null})");
        REQUIRE(none.has_value());
        CHECK(none->user.properties.empty());
        CHECK_FALSE(none->company);
    }
    SECTION("company with id: the user gets the company, the other keys become company properties")
    {
        auto r = identify(R"({"user_id":"u","company":{"id":"company_001","name":"Acme","plan":"pro"}})");
        REQUIRE(r.has_value());
        CHECK(r->user.company_id == "company_001");
        REQUIRE(r->company);
        CHECK(r->company->company_id == "company_001");
        CHECK(r->company->properties == json::object{{"name", "Acme"}, {"plan", "pro"}});
    }
    SECTION("company with company_id instead of id")
    {
        auto r = identify(R"({"user_id":"u","company":{"company_id":"company_002","size":10}})");
        REQUIRE(r.has_value());
        CHECK(r->user.company_id == "company_002");
        REQUIRE(r->company);
        CHECK(r->company->properties == json::object{{"size", 10}});
    }
    SECTION("company with company_id and a null id")
    {
        auto r = identify(R"({"user_id":"u","company":{"id":null,"company_id":"company_003"}})");
        REQUIRE(r.has_value());
        CHECK(r->user.company_id == "company_003");
        REQUIRE(r->company);
        CHECK(r->company->properties.empty());
    }
}

TEST_CASE("companies/identify needs a company_id and takes metadata", "[requests][identify]")
{
    std::string body, code, field;
    std::tie(body, code, field) = GENERATE(table<std::string, std::string, std::string>({
        {R"({"metadata":{}})", "missing_field", "company_id"},
        {R"({"company_id":""})", "invalid_field", "company_id"},
        {R"({"company_id":1})", "invalid_field", "company_id"},
        {R"({"company_id":"c","metadata":[]})", "invalid_field", "metadata"},
    }));
    CAPTURE(body);
    auto parsed = parse_json_object(body);
    REQUIRE(parsed.has_value());
    auto r = parse_company_identify(*parsed);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == code);
    CHECK(r.error().field == field);
}

TEST_CASE("companies/identify accepts a company_id with metadata", "[requests][identify]")
{
    auto ok = parse_json_object(R"({"company_id":"company_001","metadata":{"name":"Acme"}})");
    REQUIRE(ok.has_value());
    auto c = parse_company_identify(*ok);
    REQUIRE(c.has_value());
    CHECK(c->company_id == "company_001");
    CHECK(c->properties == json::object{{"name", "Acme"}});
}
