// Slow and idle clients: slowloris headers, slow bodies and idle keep-alive connections are closed by the
// daemon's timeouts, and hundreds of them do not keep a normal client from being served.
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "tests/support/api_checks.hpp"
#include "tests/support/bulk_jobs.hpp"
#include "tests/support/test_daemon.hpp"

using namespace profiled::test;
using namespace std::chrono_literals;

namespace {

// Sends text one byte at a time, pause apart, until the server closes the connection; the bytes sent by then.
std::size_t dribble_until_closed(http_connection& c, const std::string& text, std::chrono::milliseconds pause)
{
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (c.closed_by_server(static_cast<int>(pause.count())))
            return i;
        c.send_raw(text.substr(i, 1));
    }
    return text.size();
}

// A request head that never ends: many header lines, to be dribbled.
std::string endless_head()
{
    std::string head = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    while (head.size() < 400)
        head += "X-Slow: aaaaaaaaaaaaaaaa\r\n";
    return head;
}

} // namespace

TEST_CASE("slowloris: a header dribbled byte by byte is cut off by the read timeout", "[slow][integration]")
{
    test_daemon d({"--read-timeout", "2"});
    http_connection c(d.port());
    std::string head = endless_head();
    // 400 bytes at 50 ms apart would take 20 s; the 2 s read timeout closes the connection long before.
    std::size_t sent = dribble_until_closed(c, head, 50ms);
    CHECK(sent < head.size());
    CHECK(sent > 0);
    CHECK(http_call(d.port(), "GET", "/healthz").status == 200);
}

TEST_CASE("slow body: a request body dribbled byte by byte is cut off by the read timeout", "[slow][integration]")
{
    test_daemon d({"--read-timeout", "2"});
    std::string body = R"({"user_id":"slow-body","metadata":{"pad":")" + std::string(400, 'x') + "\"}}";

    SECTION("a single write")
    {
        http_connection c(d.port());
        c.send_raw("POST /v1/identify HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Token " + d.secret_key() +
                   "\r\nX-API-Version: 2020-09-22\r\nContent-Type: application/json\r\nContent-Length: " +
                   std::to_string(body.size()) + "\r\n\r\n");
        std::size_t sent = dribble_until_closed(c, body, 50ms);
        CHECK(sent < body.size());
        CHECK(get_user(d, "slow-body").empty());
    }
    SECTION("a bulk upload that stalls")
    {
        std::string upload = multipart_body(user_rows(50, 0, "stalled"));
        http_connection c(d.port());
        c.send_raw("POST /v1/users/bulk_identify HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Token " +
                   d.secret_key() + "\r\nContent-Type: multipart/form-data; boundary=" + test_boundary +
                   "\r\nContent-Length: " + std::to_string(upload.size()) + "\r\n\r\n" + upload.substr(0, 300));
        // Nothing more arrives: the upload is dropped, nothing half-written stays behind.
        CHECK(c.closed_by_server(15000));
        CHECK(spool_files(d).empty());
        auto jobs = d.call("GET", "/v1/background_jobs");
        REQUIRE(jobs.status == 200);
        CHECK(jobs.json().at("jobs").as_array().empty());
    }
    CHECK(http_call(d.port(), "GET", "/healthz").status == 200);
}

TEST_CASE("an idle keep-alive connection is closed after the idle timeout", "[slow][integration]")
{
    test_daemon d({"--idle-timeout", "1", "--read-timeout", "30"});
    http_connection c(d.port());
    REQUIRE(c.request("GET", "/healthz").status == 200);
    // Still usable right away (keep-alive), then closed once it idles.
    REQUIRE(c.request("GET", "/healthz").status == 200);
    CHECK(c.closed_by_server(15000));
}

TEST_CASE("hundreds of slow and idle connections do not keep a normal client from being served",
          "[slow][integration]")
{
    test_daemon d({"--read-timeout", "6", "--idle-timeout", "6"});
    std::vector<std::unique_ptr<http_connection>> slow;
    // 150 slowloris heads, 100 slow bodies, 50 idle keep-alive connections: 300 in all.
    for (int i = 0; i < 150; ++i) {
        slow.push_back(std::make_unique<http_connection>(d.port()));
        slow.back()->send_raw("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: a");
    }
    for (int i = 0; i < 100; ++i) {
        slow.push_back(std::make_unique<http_connection>(d.port()));
        slow.back()->send_raw("POST /v1/identify HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Token " +
                              d.secret_key() + "\r\nX-API-Version: 2020-09-22\r\nContent-Length: 100\r\n\r\n{\"us");
    }
    for (int i = 0; i < 50; ++i) {
        slow.push_back(std::make_unique<http_connection>(d.port()));
        REQUIRE(slow.back()->request("GET", "/healthz").status == 200);
    }

    // A normal client is served while all of them are held open.
    http_connection normal(d.port());
    CHECK(normal.request("GET", "/healthz").status == 200);
    CHECK(normal.request("POST", "/v1/identify", R"({"user_id":"normal","metadata":{"ok":true}})",
                         {{"Authorization", "Token " + d.secret_key()}, {"X-API-Version", "2020-09-22"}})
              .status == 202);
    CHECK(get_user(d, "normal").at("properties").at("ok") == true);
    // (The slow ones were not simply dropped first: the first of them is still open.)
    CHECK_FALSE(slow.front()->closed_by_server(0));

    // Then every one of them is closed by the daemon's timeouts.
    int closed = 0;
    for (auto& c : slow)
        closed += c->closed_by_server(20000);
    CHECK(closed == static_cast<int>(slow.size()));
    CHECK(http_call(d.port(), "GET", "/healthz").status == 200);
}
