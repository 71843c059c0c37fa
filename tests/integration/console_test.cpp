// The web console's routes through the real daemon: / and /ui redirect to /ui/, the page and its versioned assets
// are served with their content types and caching, anything else under /ui/ is a 404 in the common error body,
// and every one of these answers carries the console's security headers. The pages themselves are tested in a
// browser (tests/browser/).
#include <regex>
#include <string>

#include <catch2/catch.hpp>

#include "tests/support/http_client.hpp"
#include "tests/support/test_daemon.hpp"

using namespace profiled::test;

namespace {

// The security headers every console answer has.
void check_console_headers(const http_reply& r)
{
    CAPTURE(r.status);
    const std::string& csp = r.headers.at("content-security-policy");
    CHECK(csp.find("default-src 'none'") != std::string::npos);
    CHECK(csp.find("script-src 'self'") != std::string::npos);
    CHECK(csp.find("connect-src 'self'") != std::string::npos);
    CHECK(csp.find("frame-ancestors 'none'") != std::string::npos);
    CHECK(csp.find("unsafe-") == std::string::npos);
    CHECK(r.headers.at("x-content-type-options") == "nosniff");
    CHECK(r.headers.at("referrer-policy") == "no-referrer");
}

} // namespace

TEST_CASE("the console is served at /ui/ with its security headers, and / and /ui redirect there",
          "[console][integration]")
{
    test_daemon d;
    for (const char* from : {"/", "/ui"}) {
        CAPTURE(from);
        auto r = http_call(d.port(), "GET", from);
        CHECK(r.status == 302);
        CHECK(r.headers.at("location") == "/ui/");
        check_console_headers(r);
    }

    auto page = http_call(d.port(), "GET", "/ui/");
    REQUIRE(page.status == 200);
    CHECK(page.headers.at("content-type").starts_with("text/html"));
    CHECK(page.headers.at("cache-control") == "no-cache");
    check_console_headers(page);
    // No inline script: every script is a file of this build's asset folder.
    CHECK(page.body.find("<script>") == std::string::npos);
    std::smatch asset;
    REQUIRE(std::regex_search(page.body, asset, std::regex("src=\"(assets/([0-9a-f]{12})/app\\.js)\"")));
    const std::string version = asset[2];

    auto script = http_call(d.port(), "GET", "/ui/" + asset[1].str());
    REQUIRE(script.status == 200);
    CHECK(script.headers.at("content-type").starts_with("text/javascript"));
    CHECK(script.headers.at("cache-control").find("immutable") != std::string::npos);
    CHECK(script.body.find("import") != std::string::npos);
    check_console_headers(script);
    auto styles = http_call(d.port(), "GET", "/ui/assets/" + version + "/console.css");
    CHECK(styles.status == 200);
    CHECK(styles.headers.at("content-type").starts_with("text/css"));

    // HEAD: the same head, no body.
    auto head = http_call(d.port(), "HEAD", "/ui/");
    CHECK(head.status == 200);
    CHECK(head.body.empty());
    CHECK(head.headers.at("content-length") == std::to_string(page.body.size()));

    // Another build's folder, a file that is not there, index.html as an asset, another page: 404s.
    for (std::string target : {std::string("/ui/assets/000000000000/app.js"), "/ui/assets/" + version + "/nope.js",
                               "/ui/assets/" + version + "/index.html", std::string("/ui/jobs")}) {
        CAPTURE(target);
        auto r = http_call(d.port(), "GET", target);
        CHECK(r.status == 404);
        CHECK(r.error_code() == "not_found");
        check_console_headers(r);
    }
    // The console takes no key: the API behind it still does.
    CHECK(http_call(d.port(), "GET", "/v1/background_jobs").status == 401);
    CHECK(http_call(d.port(), "POST", "/ui/").status == 405);
}
