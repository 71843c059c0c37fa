// The web console: / and /ui redirect to /ui/, which serves index.html; its scripts and styles are served under
// /ui/assets/<version>/ from the files embedded at build time. Every answer carries the console's security headers.
#include <fmt/format.h>

#include "daemon/api/routes.hpp"
#include "daemon/console/console_assets.hpp"

namespace profiled {
namespace net = boost::asio;

namespace {

// No inline script or style, nothing from elsewhere, no framing: what the page shows cannot run as code.
constexpr const char* content_security_policy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "form-action 'none'; base-uri 'none'; frame-ancestors 'none'";

// Adds the security headers every console response carries.
http_response with_console_headers(http_response r)
{
    r.headers.emplace_back("Content-Security-Policy", content_security_policy);
    r.headers.emplace_back("X-Content-Type-Options", "nosniff");
    r.headers.emplace_back("Referrer-Policy", "no-referrer");
    r.headers.emplace_back("X-Frame-Options", "DENY");
    r.headers.emplace_back("Cross-Origin-Opener-Policy", "same-origin");
    return r;
}

// The embedded file of that name, or null.
const console_asset* find_asset(std::string_view name)
{
    for (const auto& a : console_assets()) {
        if (a.name == name)
            return &a;
    }
    return nullptr;
}

// A 200 with the file and the given Cache-Control.
http_response asset_response(const console_asset& asset, std::string_view cache_control)
{
    http_response r;
    r.status = 200;
    r.content_type = std::string(asset.content_type);
    r.body = std::string(asset.body);
    r.headers.emplace_back("Cache-Control", std::string(cache_control));
    return with_console_headers(std::move(r));
}

// A 302 to /ui/.
http_response redirect_to_console()
{
    http_response r;
    r.status = 302;
    r.content_type = "text/plain; charset=utf-8";
    r.body = "The console is at /ui/\n";
    r.headers.emplace_back("Location", "/ui/");
    r.headers.emplace_back("Cache-Control", "no-cache");
    return with_console_headers(std::move(r));
}

// The common 404 error body, with the console's headers.
http_response console_not_found(std::string_view path)
{
    auto r = error_response(not_found("console page", std::string(path)));
    r.headers.emplace_back("Cache-Control", "no-cache");
    return with_console_headers(std::move(r));
}

// GET / and GET /ui.
net::awaitable<http_response> get_console_redirect(request_context&) { co_return redirect_to_console(); }

// GET /ui/: the page, always revalidated, so a new build's asset version is picked up at once.
net::awaitable<http_response> get_console_index(request_context&)
{
    const console_asset* index = find_asset("index.html");
    if (!index)
        co_return console_not_found("/ui/");
    auto r = asset_response(*index, "no-cache");
    // The page names its scripts and styles by this build's asset folder.
    auto at = r.body.find("@CONSOLE_VERSION@");
    while (at != std::string::npos) {
        r.body.replace(at, 17, console_version());
        at = r.body.find("@CONSOLE_VERSION@", at);
    }
    co_return r;
}

// GET /ui/assets/{version}/{file}: a file of this build, cached for good (a new build has a new version).
net::awaitable<http_response> get_console_asset(request_context& rc)
{
    const console_asset* asset = rc.params[0] == console_version() ? find_asset(rc.params[1]) : nullptr;
    if (!asset || asset->name == "index.html")
        co_return console_not_found(rc.request.path);
    co_return asset_response(*asset, "public, max-age=31536000, immutable");
}

// Any other path under /ui/: a 404 that still carries the console's headers.
net::awaitable<http_response> get_console_missing(request_context& rc) { co_return console_not_found(rc.request.path); }

} // namespace

// GET /, /ui, /ui/ and /ui/assets/{version}/{file}: the web console.
void add_console_routes(router& routes)
{
    route_options open{.auth = auth_rule::none};
    routes.add("GET", "/", open, get_console_redirect);
    routes.add("GET", "/ui", open, get_console_redirect);
    routes.add("GET", "/ui/", open, get_console_index);
    routes.add("GET", "/ui/assets/{version}/{file}", open, get_console_asset);
    routes.add("GET", "/ui/{page}", open, get_console_missing);
}

} // namespace profiled
