// HTTP framing over raw sockets that stay open: a client that does not half-close still gets its answer
// within 3 s (huge trailers, bare LF, Transfer-Encoding and Host rules), HEAD and 405 keep the connection
// usable, and the daemon keeps serving afterwards.
#include <cstdio>
#include <fstream>
#include <string>
#include <sys/types.h>
#include <tuple>
#include <vector>

#include <boost/json/parse.hpp>
#include <catch2/catch.hpp>

#include "tests/support/raw_socket.hpp"
#include "tests/support/test_daemon.hpp"

using namespace profiled::test;

namespace {

// Every answer here must come this fast, with the client's write side still open.
constexpr int answer_ms = 3000;

// True while the process exists and is not a zombie.
bool running(pid_t pid)
{
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string stat;
    std::getline(in, stat);
    auto paren = stat.rfind(')');
    return paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] != 'Z';
}

// A POST /v1/identify head with the daemon's secret key and the given extra header lines (each ending in CRLF).
std::string identify_head(const test_daemon& d, const std::string& extra, const std::string& version = "HTTP/1.1")
{
    return "POST /v1/identify " + version + "\r\nHost: localhost\r\nAuthorization: Token " + d.secret_key() +
           "\r\nX-API-Version: 2020-09-22\r\n" + extra + "\r\n";
}

const std::string identify_body = R"({"user_id":"framing-u1","metadata":{"plan":"pro"}})";

// identify_body's size as a chunk-size.
std::string body_size_hex()
{
    char size[16];
    std::snprintf(size, sizeof size, "%zx", identify_body.size());
    return size;
}

// identify_body as one chunk and the last chunk, without trailers or the final CRLF.
std::string one_chunk() { return body_size_hex() + "\r\n" + identify_body + "\r\n0\r\n"; }

// True for /healthz's answer body.
bool health_ok(const std::string& body)
{
    boost::system::error_code ec;
    auto v = boost::json::parse(body, ec);
    return !ec && v.is_object() && v.as_object().if_contains("status") && *v.as_object().if_contains("status") == "ok";
}

// Sends request on a fresh connection left open and returns the answer read within answer_ms.
http_reply answer_to(const test_daemon& d, const std::string& request)
{
    raw_socket s(d.port());
    REQUIRE(s.send(request, answer_ms));
    return s.read_response(answer_ms);
}

// The daemon is up and answers a new connection.
void check_still_serving(const test_daemon& d)
{
    REQUIRE(running(d.pid()));
    raw_socket s(d.port());
    REQUIRE(s.send("GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n"));
    CHECK(s.read_response(answer_ms).status == 200);
}

} // namespace

TEST_CASE("a chunked request with a 64 KB trailer field gets 413 on an open connection and the daemon keeps serving",
          "[http][integration]")
{
    test_daemon d;
    std::string trailer = GENERATE(std::string("X-Big: ") + std::string(65536, 'v'),
                                   std::string("X-") + std::string(65536, 'n') + ": v");
    CAPTURE(trailer.substr(0, 12));
    raw_socket s(d.port());
    // The daemon may answer and stop reading before all of it is sent; the answer is what counts.
    s.send(identify_head(d, "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n") + one_chunk() + trailer +
               "\r\n\r\n",
           answer_ms);
    auto reply = s.read_response(answer_ms);
    CHECK(reply.status == 413);
    CHECK(reply.error_code() == "headers_too_large");
    check_still_serving(d);
}

TEST_CASE("a chunk line ending in a bare LF gets 400 without the client closing its side", "[http][integration]")
{
    test_daemon d;
    std::string body = GENERATE(body_size_hex() + "\n" + identify_body + "\r\n0\r\n\r\n",
                                body_size_hex() + "\r\n" + identify_body + "\n0\r\n\r\n");
    CAPTURE(body);
    auto reply =
        answer_to(d, identify_head(d, "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n") + body);
    CHECK(reply.status == 400);
    CHECK(reply.error_code() == "malformed_request");
    check_still_serving(d);
}

TEST_CASE("HEAD /healthz answers GET's head without a body, and the connection carries on", "[http][integration]")
{
    test_daemon d;
    raw_socket s(d.port());
    REQUIRE(s.send("GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n"));
    auto get = s.read_response(answer_ms);
    REQUIRE(get.status == 200);
    REQUIRE(get.headers.count("content-length"));

    REQUIRE(s.send("HEAD /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n"));
    auto head = s.read_response(answer_ms, true);
    REQUIRE(head.status == 200);
    CHECK(head.headers["content-length"] == get.headers["content-length"]);
    CHECK(head.headers["content-type"] == get.headers["content-type"]);
    // No body follows the head: the next bytes on the connection are the next response.
    CHECK(s.quiet(300));

    REQUIRE(s.send("GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n"));
    auto again = s.read_response(answer_ms);
    REQUIRE(again.status == 200);
    CHECK(again.body == get.body);
    CHECK(health_ok(again.body));
}

TEST_CASE("HEAD on a POST-only route is a 405 with Allow and no body, and the connection carries on",
          "[http][integration]")
{
    test_daemon d;
    raw_socket s(d.port());
    REQUIRE(s.send("HEAD /v1/identify HTTP/1.1\r\nHost: localhost\r\nAuthorization: Token " + d.secret_key() +
                   "\r\n\r\n"));
    auto head = s.read_response(answer_ms, true);
    CHECK(head.status == 405);
    CHECK(head.headers["allow"] == "POST");
    CHECK(s.quiet(300));

    REQUIRE(s.send("GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n"));
    auto next = s.read_response(answer_ms);
    CHECK(next.status == 200);
    CHECK(health_ok(next.body));
}

TEST_CASE("every 405 says which methods the route allows", "[http][integration]")
{
    test_daemon d;
    std::string method;
    std::string target;
    std::string allow;
    std::tie(method, target, allow) = GENERATE(table<std::string, std::string, std::string>({
        {"GET", "/v1/identify", "POST"},
        {"PUT", "/v1/identify", "POST"},
        {"DELETE", "/healthz", "GET, HEAD"},
        {"POST", "/healthz", "GET, HEAD"},
    }));
    CAPTURE(method, target);
    auto reply = answer_to(d, method + " " + target + " HTTP/1.1\r\nHost: localhost\r\nAuthorization: Token " +
                                  d.secret_key() + "\r\nContent-Length: 0\r\n\r\n");
    CHECK(reply.status == 405);
    CHECK(reply.error_code() == "method_not_allowed");
    CHECK(reply.headers["allow"] == allow);
}

TEST_CASE("request heads the daemon must refuse or accept, answered on an open connection", "[http][integration]")
{
    test_daemon d;
    const std::string json = "Content-Type: application/json\r\n";
    const std::string length = "Content-Length: " + std::to_string(identify_body.size()) + "\r\n";
    struct head_case {
        std::string name;
        std::string request;
        int status;
        std::string code; // "" for a /healthz success
    };
    const std::vector<head_case> cases{
        {"HTTP/1.1 without Host", "GET /healthz HTTP/1.1\r\n\r\n", 400, "invalid_host"},
        {"two Host headers", "GET /healthz HTTP/1.1\r\nHost: localhost\r\nHost: other.example\r\n\r\n", 400,
         "invalid_host"},
        {"absolute-form target", "GET http://localhost/healthz HTTP/1.1\r\nHost: localhost\r\n\r\n", 200, ""},
        {"Transfer-Encoding: gzip, chunked",
         identify_head(d, json + "Transfer-Encoding: gzip, chunked\r\n") + one_chunk() + "\r\n", 400,
         "unsupported_transfer_encoding"},
        {"Content-Encoding: gzip", identify_head(d, json + length + "Content-Encoding: gzip\r\n") + identify_body, 415,
         "unsupported_content_encoding"},
        {"trailing slash",
         "POST /v1/identify/ HTTP/1.1\r\nHost: localhost\r\nAuthorization: Token " + d.secret_key() + "\r\n" + json +
             length + "\r\n" + identify_body,
         404, "route_not_found"},
        {"no Content-Type", identify_head(d, length) + identify_body, 415, "unsupported_media_type"},
        {"HTTP/1.0 with Transfer-Encoding",
         identify_head(d, json + "Transfer-Encoding: chunked\r\n", "HTTP/1.0") + one_chunk() + "\r\n", 400,
         "unsupported_transfer_encoding"},
    };
    for (const auto& c : cases) {
        CAPTURE(c.name);
        auto reply = answer_to(d, c.request);
        CHECK(reply.status == c.status);
        if (!c.code.empty())
            CHECK(reply.error_code() == c.code);
        else
            CHECK(health_ok(reply.body));
        check_still_serving(d);
    }
}
