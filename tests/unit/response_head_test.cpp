// The response head profiled writes by hand: status line, fields, framing and keep-alive.
#include <string>

#include <catch2/catch.hpp>

#include "daemon/http/response_head.hpp"

using namespace profiled;

TEST_CASE("a response head carries the status, the fields and the body's length", "[http]")
{
    http_response r;
    r.status = 202;
    r.body = "{}";
    r.headers.emplace_back("Retry-After", "1");
    std::string head = response_head(r, 11, true);
    CHECK(head.rfind("HTTP/1.1 202 Accepted\r\n", 0) == 0);
    CHECK(head.find("\r\nServer: profiled/") != std::string::npos);
    CHECK(head.find("\r\nContent-Type: application/json\r\n") != std::string::npos);
    CHECK(head.find("\r\nRetry-After: 1\r\n") != std::string::npos);
    CHECK(head.find("\r\nContent-Length: 2\r\n") != std::string::npos);
    CHECK(head.find("Connection") == std::string::npos); // keep-alive is HTTP/1.1's default
    CHECK(head.size() >= 4);
    CHECK(head.substr(head.size() - 4) == "\r\n\r\n");
}

TEST_CASE("a response head says when the connection closes, and keep-alive on HTTP/1.0", "[http]")
{
    http_response r;
    r.status = 404;
    CHECK(response_head(r, 11, false).find("\r\nConnection: close\r\n") != std::string::npos);
    CHECK(response_head(r, 10, true).find("\r\nConnection: keep-alive\r\n") != std::string::npos);
    CHECK(response_head(r, 10, false).find("Connection") == std::string::npos);
    CHECK(response_head(r, 10, false).rfind("HTTP/1.0 404 Not Found\r\n", 0) == 0);
    CHECK(response_head(r, 11, true).find("\r\nContent-Length: 0\r\n") != std::string::npos);
}

TEST_CASE("a response head drops a field that would split the response", "[http][security]")
{
    http_response r;
    r.headers.emplace_back("Location", "/v1/x\r\nSet-Cookie: a=b");
    r.headers.emplace_back("Bad\nName", "v");
    r.headers.emplace_back("Colon:Name", "v");
    r.headers.emplace_back("Allow", "GET, HEAD");
    std::string head = response_head(r, 11, true);
    CHECK(head.find("Set-Cookie") == std::string::npos);
    CHECK(head.find("Location") == std::string::npos);
    CHECK(head.find("Bad") == std::string::npos);
    CHECK(head.find("Colon") == std::string::npos);
    CHECK(head.find("\r\nAllow: GET, HEAD\r\n") != std::string::npos);
}
