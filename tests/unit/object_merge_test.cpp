// profiled's merge rule on JSON object texts, as both engines' merge functions apply it.
#include <string>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <catch2/catch.hpp>

#include "common/profiles/object_merge.hpp"

using profiled::merge_object_text;

TEST_CASE("merge_object_text: given keys overwrite, missing keys stay, null is kept", "[merge][unit]")
{
    std::string into, patch, expected;
    std::tie(into, patch, expected) = GENERATE(table<std::string, std::string, std::string>({
        {R"({"name":"Jane","plan":"free","logins":3})", R"({"plan":"pro"})", R"({"name":"Jane","plan":"pro","logins":3})"},
        {R"({"name":"Jane"})", R"({"vip":null})", R"({"name":"Jane","vip":null})"},
        {R"({"name":"Jane","vip":true})", R"({"vip":null})", R"({"name":"Jane","vip":null})"},
        {R"({"a":{"x":1,"y":2}})", R"({"a":{"x":5}})", R"({"a":{"x":5}})"},
        {R"({"a":[1,2]})", R"({"a":[3],"b":"}"})", R"({"a":[3],"b":"}"})"},
        {R"({"a":1})", R"({})", R"({"a":1})"},
        {R"({})", R"({"a":1})", R"({"a":1})"},
        {R"({})", R"({})", R"({})"},
        {R"({"a":"x\"y","b":2})", R"({"b":"q\\"})", R"({"a":"x\"y","b":"q\\"})"},
        {R"({"a":1,"b":2})", R"({"c":3,"a":4})", R"({"a":4,"b":2,"c":3})"},
        {R"( { "a" : 1 , "b" : [ 1 , { "c" : 2 } ] } )", R"({"d":-1.5e3})", R"({"a":1,"b":[ 1 , { "c" : 2 } ],"d":-1.5e3})"},
        {R"({"a":1})", R"({"b":1,"b":2})", R"({"a":1,"b":2})"},
        {"not json", R"({"a":1})", R"({"a":1})"},
        {R"({"a":1})", "[1,2]", R"({"a":1})"},
        {R"({"é":1})", R"({"é":2,"ü":true})", R"({"é":2,"ü":true})"},
    }));
    CAPTURE(into, patch);
    std::string merged = merge_object_text(into, patch);
    CHECK(merged == expected);
    // Whatever came in, what comes out is one JSON object.
    CHECK(boost::json::parse(merged).is_object());
}

TEST_CASE("merge_object_text stays linear for patches of many keys into profiles of many keys", "[merge][unit]")
{
    std::string into = "{", patch = "{";
    for (int i = 0; i < 20000; ++i) {
        into += (i ? "," : "") + std::string("\"k") + std::to_string(i) + "\":" + std::to_string(i);
        patch += (i ? "," : "") + std::string("\"k") + std::to_string(i * 2) + "\":null";
    }
    into += "}";
    patch += "}";
    auto started = std::chrono::steady_clock::now();
    std::string merged = merge_object_text(into, patch);
    auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    auto object = boost::json::parse(merged).as_object();
    CHECK(object.size() == 30000);
    CHECK(object.at("k2").is_null());
    CHECK(object.at("k3") == 3);
    CHECK(object.at("k39998").is_null());
    // A quadratic merge takes minutes here; linear takes milliseconds. The bound is loose on purpose.
    CHECK(seconds < 2.0);
}
