// Slow and idle clients: slowloris headers, slow bodies and idle keep-alive connections are closed by the
// daemon's timeouts, and hundreds of them do not keep a normal client from being served.
#include <memory>
#include <poll.h>
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

// Sends text one byte at a time, pause apart, until the server answers or closes the connection; the bytes
// sent by then.
std::size_t dribble_until_closed(http_connection& c, const std::string& text, std::chrono::milliseconds pause)
{
    for (std::size_t i = 0; i < text.size(); ++i) {
        pollfd p{c.fd(), POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(pause.count())) > 0)
            return i;
        c.send_raw(text.substr(i, 1));
    }
    return text.size();
}

// The status line of what the server sent before it closed the connection (within timeout_ms), "" when it sent
// nothing, or "open" when it did not close the connection in time.
std::string status_before_close(http_connection& c, int timeout_ms)
{
    auto got = c.read_until_closed(timeout_ms);
    if (!got)
        return "open";
    return got->substr(0, got->find("\r\n"));
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
        CHECK(status_before_close(c, 5000) == "HTTP/1.1 408 Request Timeout");
        CHECK(get_user(d, "slow-body").empty());
    }
    SECTION("a bulk upload that stalls")
    {
        std::string upload = multipart_body(user_rows(50, 0, "stalled"));
        http_connection c(d.port());
        c.send_raw("POST /v1/users/bulk_identify HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Token " +
                   d.secret_key() + "\r\nContent-Type: multipart/form-data; boundary=" + test_boundary +
                   "\r\nContent-Length: " + std::to_string(upload.size()) + "\r\n\r\n" + upload.substr(0, 300));
        // Nothing more arrives: the upload is refused with 408, and nothing half-written stays behind by the
        // time the client hears of it.
        CHECK(status_before_close(c, 15000) == "HTTP/1.1 408 Request Timeout");
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
        closed += status_before_close(*c, 20000) != "open";
    CHECK(closed == static_cast<int>(slow.size()));
    CHECK(http_call(d.port(), "GET", "/healthz").status == 200);
}

namespace {

// The raw head of a multipart bulk upload of body, with the given key.
std::string upload_head(const std::string& key, std::size_t body_size)
{
    return "POST /v1/users/bulk_identify HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Token " + key +
           "\r\nContent-Type: multipart/form-data; boundary=" + test_boundary +
           "\r\nContent-Length: " + std::to_string(body_size) + "\r\n\r\n";
}

} // namespace

TEST_CASE("a trickling upload is refused with 408 once it falls below the minimum rate", "[slow][integration]")
{
    // The read timeout alone would never end it: every byte renews it.
    test_daemon d({"--read-timeout", "30", "--min-upload-rate", "1000", "--upload-rate-window", "1"});
    std::string upload = multipart_body(user_rows(200, 0, "trickle"));

    SECTION("one byte every 100 ms")
    {
        http_connection c(d.port());
        c.send_raw(upload_head(d.secret_key(), upload.size()) + upload.substr(0, 300));
        auto started = std::chrono::steady_clock::now();
        std::size_t sent = dribble_until_closed(c, upload.substr(300), 100ms);
        auto waited = std::chrono::steady_clock::now() - started;
        CHECK(sent < 40);
        CHECK(waited < 5s);
        auto answer = c.read_until_closed(5000);
        REQUIRE(answer);
        CHECK(answer->starts_with("HTTP/1.1 408 Request Timeout"));
        CHECK(answer->find("\"error_code\":\"body_too_slow\"") != std::string::npos);
        CHECK(answer->find("--min-upload-rate") != std::string::npos);
        // Nothing of it stays behind, and no job was made.
        CHECK(spool_files(d).empty());
        auto jobs = d.call("GET", "/v1/background_jobs");
        REQUIRE(jobs.status == 200);
        CHECK(jobs.json().at("jobs").as_array().empty());
    }
    SECTION("a slow but steady upload above the minimum is accepted")
    {
        http_connection c(d.port());
        c.send_raw(upload_head(d.secret_key(), upload.size()));
        // About 4 KB/s for a few seconds: four times the minimum.
        for (std::size_t at = 0; at < upload.size(); at += 800) {
            c.send_raw(upload.substr(at, 800));
            std::this_thread::sleep_for(200ms);
        }
        auto reply = c.read_reply(10000);
        CHECK(reply.status == 202);
    }
    CHECK(http_call(d.port(), "GET", "/healthz").status == 200);
}

TEST_CASE("connections over --max-connections are answered 503 and closed, not left waiting",
          "[slow][integration]")
{
    test_daemon d({"--max-connections", "5", "--read-timeout", "20"});
    std::vector<std::unique_ptr<http_connection>> held;
    for (int i = 0; i < 5; ++i) {
        held.push_back(std::make_unique<http_connection>(d.port()));
        held.back()->send_raw("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: a");
    }
    std::this_thread::sleep_for(200ms); // the daemon has accepted all five
    http_connection extra(d.port());
    extra.send_raw("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    auto answer = extra.read_until_closed(3000);
    REQUIRE(answer);
    CHECK(answer->starts_with("HTTP/1.1 503 Service Unavailable"));
    CHECK(answer->find("Retry-After: 1") != std::string::npos);
    CHECK(answer->find("\"error_code\":\"too_many_connections\"") != std::string::npos);
    // The held ones were not dropped to make room.
    CHECK_FALSE(held.front()->closed_by_server(0));

    // Once they go, new clients are served again.
    held.clear();
    std::this_thread::sleep_for(300ms);
    CHECK(http_call(d.port(), "GET", "/healthz").status == 200);
    auto metrics = http_call(d.port(), "GET", "/metrics");
    CHECK(metrics.body.find("profiled_http_connections_refused_total 1") != std::string::npos);
}

TEST_CASE("one key sends at most --max-uploads-per-key uploads at once", "[slow][integration]")
{
    test_daemon d({"--max-uploads-per-key", "1", "--read-timeout", "20"});
    std::string upload = multipart_body(user_rows(20, 0, "first"));
    http_connection first(d.port());
    first.send_raw(upload_head(d.secret_key(), upload.size()) + upload.substr(0, 100));
    std::this_thread::sleep_for(200ms); // the first upload is being received

    auto second = upload_ndjson(d, "users", user_rows(5, 100, "second"));
    CHECK(second.status == 429);
    CHECK(second.headers["retry-after"] == "1");
    CHECK(second.json().at("errors").at(0).at("error_code") == "too_many_uploads");
    // Another key of the same project is not held back by this one.
    std::string other = create_key(d.data_dir(), "default", "secret");
    CHECK(upload_ndjson(d, "users", user_rows(5, 200, "other"), other).status == 202);

    // When the first ends, the key may upload again.
    first.send_raw(upload.substr(100));
    CHECK(first.read_reply(10000).status == 202);
    CHECK(upload_ndjson(d, "users", user_rows(5, 300, "third")).status == 202);
}
