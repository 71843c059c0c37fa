// Bad input of every kind: each gets its own 4xx, the common error body and a message naming the field.
#include <cstdio>
#include <string>
#include <tuple>

#include <catch2/catch.hpp>

#include "tests/support/api_checks.hpp"
#include "tests/support/test_daemon.hpp"

using namespace profiled::test;

namespace {

// A valid identify body for user_id of exactly size bytes, padded with a metadata string.
std::string identify_body_of_size(const std::string& user_id, std::size_t size)
{
    std::string head = "{\"user_id\":\"" + user_id + "\",\"metadata\":{\"pad\":\"";
    std::string tail = "\"}}";
    REQUIRE(size >= head.size() + tail.size());
    return head + std::string(size - head.size() - tail.size(), 'p') + tail;
}

// Arrays nested depth deep around a number.
std::string nested_arrays(int depth)
{
    return std::string(static_cast<std::size_t>(depth), '[') + "1" + std::string(static_cast<std::size_t>(depth), ']');
}

} // namespace

TEST_CASE("identify refuses each bad body with its own error and stores nothing", "[identify][http][integration]")
{
    std::string body, code, field;
    std::tie(body, code, field) = GENERATE(table<std::string, std::string, std::string>({
        {"not json", "invalid_json", ""},
        {"", "empty_body", ""},
        {R"([{"user_id":"u"}])", "invalid_json", ""},
        {R"({"user_id":"u")", "invalid_json", ""},
        {R"({"user_id":"u"} {})", "invalid_json", ""},
        {R"({})", "missing_field", "user_id"},
        {R"({"user_id":null,"metadata":{"a":1}})", "missing_field", "user_id"},
        {R"({"user_id":""})", "invalid_field", "user_id"},
        {R"({"user_id":42})", "invalid_field", "user_id"},
        {R"({"user_id":true})", "invalid_field", "user_id"},
        {"{\"user_id\":\"" + std::string(256, 'u') + "\"}", "invalid_field", "user_id"},
        {R"({"user_id":"u","metadata":[1,2]})", "invalid_field", "metadata"},
        {R"({"user_id":"u","metadata":"plan=pro"})", "invalid_field", "metadata"},
        {R"({"user_id":"u","company":"acme"})", "invalid_field", "company"},
        {R"({"user_id":"u","company":{}})", "missing_field", "company.id"},
        {R"({"user_id":"u","company":{"name":"Acme"}})", "missing_field", "company.id"},
        {R"({"user_id":"u","company":{"id":""}})", "invalid_field", "company.id"},
        {R"({"user_id":"u","company":{"id":17}})", "invalid_field", "company.id"},
        {R"({"user_id":"u","metadata":)" + nested_arrays(32) + "}", "too_deep", ""},
    }));
    CAPTURE(body.substr(0, 120));
    test_daemon d;
    auto r = d.identify(body);
    check_error(r, 400, code, field);
    // A refused identify leaves nothing behind: neither the user nor a company.
    check_error(d.call("GET", "/v1/users/u"), 404, "not_found");
    check_error(d.call("GET", "/v1/companies/acme"), 404, "not_found");
}

TEST_CASE("nesting of exactly 32 levels is accepted", "[identify][http][integration]")
{
    test_daemon d;
    // The body object is level 1, metadata level 2, then 30 arrays.
    auto r = d.identify(R"({"user_id":"deep","metadata":{"a":)" + nested_arrays(30) + "}}");
    CHECK(r.status == 202);
    CHECK(get_user(d, "deep").at("properties").at("a").is_array());
}

TEST_CASE("identify needs X-API-Version 2020-09-22", "[identify][http][integration]")
{
    std::string version, code;
    // An empty version stands for no X-API-Version header at all.
    std::tie(version, code) = GENERATE(table<std::string, std::string>({
        {"", "missing_field"},
        {"2021-01-01", "invalid_field"},
        {"2020-09-22x", "invalid_field"},
        {"2020-09-21", "invalid_field"},
    }));
    CAPTURE(version);
    test_daemon d;
    header_list headers{{"Authorization", "Token " + d.secret_key()}};
    if (!version.empty())
        headers.emplace_back("X-API-Version", version);
    auto r = http_call(d.port(), "POST", "/v1/identify", R"({"user_id":"u"})", headers);
    check_error(r, 400, code, "X-API-Version");
    check_error(d.call("GET", "/v1/users/u"), 404, "not_found");
}

TEST_CASE("companies/identify refuses bad bodies", "[identify][http][integration]")
{
    std::string body, code, field;
    std::tie(body, code, field) = GENERATE(table<std::string, std::string, std::string>({
        {"{", "invalid_json", ""},
        {R"(["acme"])", "invalid_json", ""},
        {R"({"metadata":{"name":"Acme"}})", "missing_field", "company_id"},
        {R"({"company_id":""})", "invalid_field", "company_id"},
        {R"({"company_id":["acme"]})", "invalid_field", "company_id"},
        {R"({"company_id":"acme","metadata":true})", "invalid_field", "metadata"},
    }));
    CAPTURE(body);
    test_daemon d;
    check_error(d.call("POST", "/v1/companies/identify", body), 400, code, field);
    check_error(d.call("GET", "/v1/companies/acme"), 404, "not_found");
}

TEST_CASE("a body that is not JSON by its Content-Type is 415", "[http][integration]")
{
    test_daemon d;
    std::string target, content_type;
    std::tie(target, content_type) = GENERATE(table<std::string, std::string>({
        {"/v1/identify", "text/plain"},
        {"/v1/identify", "application/x-www-form-urlencoded"},
        {"/v1/identify", "multipart/form-data; boundary=xyz"},
        {"/v1/identify", "application/xml"},
        {"/v1/companies/identify", "text/csv"},
    }));
    CAPTURE(target, content_type);
    auto r = d.call("POST", target, R"({"user_id":"u","company_id":"c"})",
                    {{"X-API-Version", "2020-09-22"}, {"Content-Type", content_type}});
    check_error(r, 415, "unsupported_media_type");
    CHECK(r.error_message().find(content_type) != std::string::npos);
}

TEST_CASE("JSON content types with parameters or another case are accepted", "[http][integration]")
{
    test_daemon d;
    auto content_type = GENERATE(as<std::string>{}, "application/json; charset=utf-8", "Application/JSON");
    CAPTURE(content_type);
    auto r = d.call("POST", "/v1/identify", R"({"user_id":"u"})",
                    {{"X-API-Version", "2020-09-22"}, {"Content-Type", content_type}});
    CHECK(r.status == 202);
}

TEST_CASE("requests without a valid key are 401", "[auth][http][integration]")
{
    test_daemon d;
    std::string authorization, message_part;
    std::tie(authorization, message_part) = GENERATE(table<std::string, std::string>({
        {"", "missing Authorization"},
        {"Token", "malformed"},
        {"Token ", "malformed"},
        {"Basic dXNlcjpwYXNz", "scheme"},
        {"sk_0123456789012345678901234567890123456789", "malformed"},
        {"Token sk_0123456789012345678901234567890123456789", "unknown API key"},
        {"Bearer pk_0123456789012345678901234567890123456789", "unknown API key"},
    }));
    CAPTURE(authorization);
    header_list headers{{"X-API-Version", "2020-09-22"}};
    if (!authorization.empty())
        headers.emplace_back("Authorization", authorization);

    SECTION("identify, before looking at the body")
    {
        auto r = http_call(d.port(), "POST", "/v1/identify", "not even json", headers);
        check_error(r, 401, "unauthorized");
        CHECK(r.error_message().find(message_part) != std::string::npos);
        CHECK(r.headers.count("www-authenticate") == 1);
    }
    SECTION("profile reads")
    {
        REQUIRE(d.identify(R"({"user_id":"u"})").status == 202);
        check_error(http_call(d.port(), "GET", "/v1/users/u", "", headers), 401, "unauthorized");
        check_error(http_call(d.port(), "GET", "/v1/companies/c", "", headers), 401, "unauthorized");
        check_error(http_call(d.port(), "POST", "/v1/companies/identify", R"({"company_id":"c"})", headers), 401,
                    "unauthorized");
    }
}

TEST_CASE("a public key may not call the /v1 endpoints", "[auth][http][integration]")
{
    test_daemon d;
    REQUIRE(d.identify(R"({"user_id":"u","company":{"id":"c"}})").status == 202);
    std::string method, target, body;
    std::tie(method, target, body) = GENERATE(table<std::string, std::string, std::string>({
        {"POST", "/v1/identify", R"({"user_id":"u","metadata":{"hacked":true}})"},
        {"POST", "/v1/companies/identify", R"({"company_id":"c","metadata":{"hacked":true}})"},
        {"GET", "/v1/users/u", ""},
        {"GET", "/v1/companies/c", ""},
    }));
    CAPTURE(method, target);
    auto r = http_call(d.port(), method, target, body, identify_headers(d.public_key(), "Bearer"));
    check_error(r, 403, "forbidden");
    CHECK(r.body.find("\"u\"") == std::string::npos);
    CHECK(get_user(d, "u").at("properties") == boost::json::object{});
    CHECK(d.call("GET", "/v1/companies/c").json().at("properties") == boost::json::object{});
}

TEST_CASE("unknown routes are 404 and known routes with the wrong method 405", "[http][integration]")
{
    test_daemon d;
    std::string method, target, code;
    int status = 0;
    std::tie(method, target, status, code) = GENERATE(table<std::string, std::string, int, std::string>({
        {"GET", "/v1", 404, "route_not_found"},
        {"GET", "/nope", 404, "route_not_found"},
        {"GET", "/v1/user/u", 404, "route_not_found"},
        {"GET", "/v1/users/a/b", 404, "route_not_found"},
        {"GET", "/v2/identify", 404, "route_not_found"},
        {"GET", "/v1/identify", 405, "method_not_allowed"},
        {"DELETE", "/v1/identify", 405, "method_not_allowed"},
        {"PUT", "/v1/companies/identify", 405, "method_not_allowed"},
        {"PUT", "/v1/users/u", 405, "method_not_allowed"},
        {"PATCH", "/v1/users", 405, "method_not_allowed"},
        {"PATCH", "/v1/companies/c", 405, "method_not_allowed"},
        {"POST", "/readyz", 405, "method_not_allowed"},
        {"GET", "/v1/users/%zz", 400, "invalid_path"},
    }));
    CAPTURE(method, target);
    check_error(d.call(method, target), status, code);
    // Still serving afterwards.
    CHECK(http_call(d.port(), "GET", "/healthz").status == 200);
}

TEST_CASE("a body within --max-body-bytes is accepted", "[http][integration]")
{
    test_daemon d({"--max-body-bytes", "4096"});
    CHECK(d.identify(identify_body_of_size("fits", 4096)).status == 202);
    CHECK(get_user(d, "fits").at("user_id") == "fits");
}

TEST_CASE("a chunked body over --max-body-bytes is 413", "[http][integration]")
{
    test_daemon d({"--max-body-bytes", "4096"});
    http_connection c(d.port());
    std::string body = identify_body_of_size("big", 6000);
    c.send_raw("POST /v1/identify HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Token " + d.secret_key() +
               "\r\nX-API-Version: 2020-09-22\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n");
    for (std::size_t at = 0; at < body.size(); at += 1000) {
        std::string chunk = body.substr(at, 1000);
        char size[16];
        std::snprintf(size, sizeof size, "%zx\r\n", chunk.size());
        c.send_raw(size + chunk + "\r\n");
    }
    c.send_raw("0\r\n\r\n");
    auto r = c.read_reply();
    check_error(r, 413, "body_too_large");
    CHECK(r.error_message().find("4096") != std::string::npos);
    check_error(d.call("GET", "/v1/users/big"), 404, "not_found");
    CHECK(d.identify(R"({"user_id":"after"})").status == 202);
}

TEST_CASE("a body over --max-body-bytes is 413", "[http][integration]")
{
    test_daemon d({"--max-body-bytes", "4096"});

    SECTION("one byte over the limit")
    {
        auto r = d.identify(identify_body_of_size("big", 4097));
        check_error(r, 413, "body_too_large");
        CHECK(r.error_message().find("4096") != std::string::npos);
        check_error(d.call("GET", "/v1/users/big"), 404, "not_found");
    }
    SECTION("far over the limit, and the daemon keeps serving")
    {
        check_error(d.identify(identify_body_of_size("big", 3'000'000)), 413, "body_too_large");
        CHECK(d.identify(R"({"user_id":"after"})").status == 202);
    }
}

TEST_CASE("a raised --max-body-bytes admits bodies over 1 MiB", "[http][integration]")
{
    test_daemon d({"--max-body-bytes", "3000000"});
    CHECK(d.identify(identify_body_of_size("large", 2'000'000)).status == 202);
    CHECK_FALSE(get_user(d, "large").empty());
}

TEST_CASE("a body over the default 1 MiB limit is 413", "[http][integration]")
{
    test_daemon d;
    check_error(d.identify(identify_body_of_size("big", 1024 * 1024 + 1)), 413, "body_too_large");
}

TEST_CASE("oversized request headers are 413", "[http][integration]")
{
    test_daemon d({"--max-header-bytes", "8192"});

    SECTION("headers over the limit")
    {
        auto r = d.call("POST", "/v1/identify", R"({"user_id":"u"})",
                        {{"X-API-Version", "2020-09-22"}, {"X-Padding", std::string(10'000, 'h')}});
        check_error(r, 413, "headers_too_large");
    }
    SECTION("headers under the limit are fine")
    {
        auto r = d.call("POST", "/v1/identify", R"({"user_id":"u"})",
                        {{"X-API-Version", "2020-09-22"}, {"X-Padding", std::string(6'000, 'h')}});
        CHECK(r.status == 202);
    }
}

TEST_CASE("the daemon keeps serving after oversized headers", "[http][integration]")
{
    test_daemon d;
    auto r = http_call(d.port(), "GET", "/healthz", "", {{"X-Padding", std::string(20'000, 'h')}});
    REQUIRE(r.status == 413);
    CHECK(http_call(d.port(), "GET", "/healthz").status == 200);
}

TEST_CASE("a malformed HTTP request gets the common error body", "[http][integration]")
{
    test_daemon d;
    http_connection c(d.port());
    c.send_raw("GET / HTTP/1.1\r\nthis is no header line\r\n\r\n");
    auto r = c.read_reply();
    check_error(r, 400, "malformed_request");
    CHECK(c.closed_by_server());
    CHECK(http_call(d.port(), "GET", "/healthz").status == 200);
}

TEST_CASE("one keep-alive connection carries many requests, errors included", "[http][integration]")
{
    test_daemon d;
    http_connection c(d.port());
    auto auth = identify_headers(d.secret_key());
    for (int i = 0; i < 3; ++i) {
        CAPTURE(i);
        auto id = "keep_" + std::to_string(i);
        CHECK(c.request("POST", "/v1/identify", "{\"user_id\":\"" + id + "\"}", auth).status == 202);
        auto read = c.request("GET", "/v1/users/" + id, "", auth);
        REQUIRE(read.status == 200);
        CHECK(read.json().at("user_id") == id.c_str());
        check_error(c.request("POST", "/v1/identify", "{oops", auth), 400, "invalid_json");
        check_error(c.request("GET", "/v1/users/missing", "", auth), 404, "not_found");
        check_error(c.request("GET", "/nope", "", auth), 404, "route_not_found");
        check_error(c.request("GET", "/v1/users/x", "", {}), 401, "unauthorized");
        CHECK(c.request("GET", "/healthz").status == 200);
    }
    CHECK_FALSE(c.closed_by_server(100));
}
