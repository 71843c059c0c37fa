// The webhook rules that need no network: URLs accepted, addresses refused, the signature and the retry delays.
#include <string>
#include <tuple>

#include <boost/asio/ip/address.hpp>
#include <catch2/catch.hpp>

#include "daemon/webhooks/address_policy.hpp"
#include "daemon/webhooks/retry_schedule.hpp"
#include "daemon/webhooks/webhook_signature.hpp"
#include "daemon/webhooks/webhook_url.hpp"

using namespace profiled;

TEST_CASE("addresses webhooks may reach: public unicast only, whatever the form", "[webhooks]")
{
    std::string address;
    bool is_public = false;
    std::tie(address, is_public) = GENERATE(table<std::string, bool>({
        {"93.184.215.14", true},
        {"8.8.8.8", true},
        {"172.32.0.1", true},
        {"100.128.0.1", true},
        {"127.0.0.1", false},
        {"127.255.255.254", false},
        {"0.0.0.0", false},
        {"0.1.2.3", false},
        {"10.0.0.1", false},
        {"172.16.0.1", false},
        {"172.31.255.255", false},
        {"192.168.0.1", false},
        {"100.64.0.1", false},
        {"100.127.255.255", false},
        {"169.254.169.254", false},
        {"224.0.0.1", false},
        {"255.255.255.255", false},
        {"198.18.0.1", false},
        {"2606:4700:4700::1111", true},
        {"::1", false},
        {"::", false},
        {"fc00::1", false},
        {"fd12:3456::1", false},
        {"fe80::1", false},
        {"ff02::1", false},
        {"2001:db8::1", false},
        {"::ffff:127.0.0.1", false},
        {"::ffff:10.1.2.3", false},
        {"::ffff:93.184.215.14", true},
        {"::127.0.0.1", false},
        {"64:ff9b::a00:1", false},
        {"64:ff9b::5db8:d70e", true},
    }));
    CAPTURE(address);
    CHECK(is_public_address(boost::asio::ip::make_address(address)) == is_public);
}

TEST_CASE("webhook URLs: absolute http or https with a host, split for the request", "[webhooks]")
{
    auto t = parse_webhook_url("https://Hooks.Example.com/in/profiled?team=7");
    REQUIRE(t.has_value());
    CHECK(t->https);
    CHECK(t->port == 443);
    CHECK(t->path == "/in/profiled?team=7");
    CHECK(!t->host_is_address);
    CHECK(t->host_header == "Hooks.Example.com");

    auto v6 = parse_webhook_url("http://[::1]:8080");
    REQUIRE(v6.has_value());
    CHECK(v6->host == "::1");
    CHECK(v6->host_is_address);
    CHECK(v6->port == 8080);
    CHECK(v6->path == "/");
    CHECK(v6->host_header == "[::1]:8080");

    auto v4 = parse_webhook_url("http://127.0.0.1:9/x");
    REQUIRE(v4.has_value());
    CHECK(v4->host == "127.0.0.1");
    CHECK(v4->host_is_address);

    const char* bad = GENERATE("", "hooks.example.com", "/path", "ftp://a.example/", "https://", "http:///x",
                               "https://user:pw@a.example/", "https://a.example:0/", "https://a.example:99999/",
                               "mailto:someone@example.com", "https://a.example/ space");
    CAPTURE(bad);
    auto refused = parse_webhook_url(bad);
    REQUIRE(!refused.has_value());
    CHECK(refused.error().field == "url");
    CHECK(!parse_webhook_url("https://a.example/" + std::string(max_webhook_url_bytes, 'x')).has_value());
    CHECK(parse_webhook_url("https://a.example/" + std::string(max_webhook_url_bytes - 18, 'x')).has_value());
}

TEST_CASE("the signature is HMAC-SHA256 of t.body under the secret, in lowercase hex", "[webhooks]")
{
    // RFC 4231, test case 2.
    CHECK(hmac_sha256_hex("Jefe", "what do ya want for nothing?") ==
          "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    CHECK(webhook_signature("Jefe", 1700000000, "{}") == "t=1700000000,v1=" + hmac_sha256_hex("Jefe", "1700000000.{}"));
}

TEST_CASE("retry delays: full jitter under a bound that doubles per attempt up to an hour", "[webhooks]")
{
    CHECK(retry_delay_bound(10, 1) == 10);
    CHECK(retry_delay_bound(10, 2) == 20);
    CHECK(retry_delay_bound(10, 9) == 2560);
    CHECK(retry_delay_bound(10, 10) == 3600);
    CHECK(retry_delay_bound(10, 1000) == 3600);
    CHECK(retry_delay_bound(0.05, 3) == Approx(0.2));
    CHECK(retry_delay(10, 3, 0) == 0);
    CHECK(retry_delay(10, 3, 0.5) == 20);
    CHECK(retry_delay(10, 3, 0.999) < 40);
    // The default schedule: 15 attempts, 14 waits, at most 6.4 hours in all.
    double window = 0;
    for (int attempt = 1; attempt < 15; ++attempt)
        window += retry_delay_bound(10, attempt);
    CHECK(window == 23110);
}
