#include "daemon/http/router.hpp"

#include <boost/url/parse.hpp>
#include <fmt/format.h>

#include "common/ops/log.hpp"
#include "common/ops/metrics.hpp"
#include "common/store/store_error.hpp"
#include "daemon/api/auth.hpp"
#include "daemon/api/store_failures.hpp"

namespace profiled {

namespace {

// True for the characters a path segment or a query may hold as they are (RFC 3986 pchar less '%', and '/' and '?'
// for the query): a target made only of these needs no decoding and is valid as soon as it starts with one '/'.
bool plain_target_char(char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    switch (c) {
    case '-': case '.': case '_': case '~':                                         // unreserved
    case '!': case '$': case '&': case '\'': case '(': case ')': case '*': case '+': // sub-delims
    case ',': case ';': case '=': case ':': case '@': case '/': case '?':
        return true;
    default: return false;
    }
}

// The segments of a target that needs no decoding, split where it stands; nullopt when it is not such a target
// (percent-encoded, other characters, or not one '/' first), which boost::urls then parses.
std::optional<std::vector<std::string>> split_plain_path(std::string_view target)
{
    if (target.empty() || target[0] != '/' || target.starts_with("//"))
        return std::nullopt;
    for (char c : target)
        if (!plain_target_char(c))
            return std::nullopt;
    std::string_view path = target.substr(0, target.find('?'));
    std::vector<std::string> out;
    if (path == "/")
        return out;
    path.remove_prefix(1);
    for (;;) {
        auto slash = path.find('/');
        out.emplace_back(path.substr(0, slash));
        if (slash == std::string_view::npos)
            return out;
        path.remove_prefix(slash + 1);
    }
}

} // namespace

std::optional<std::vector<std::string>> split_path(std::string_view target)
{
    if (auto plain = split_plain_path(target))
        return plain;
    auto url = boost::urls::parse_origin_form(target);
    if (!url)
        return std::nullopt;
    std::vector<std::string> out;
    for (auto segment : url->segments())
        out.push_back(segment);
    // "/v1/users/" keeps its trailing empty segment: like any unknown path, it is a 404.
    return out;
}

void router::add(std::string method, std::string pattern, route_options options, route_handler handler)
{
    route r{std::move(method), pattern, {}, options, std::move(handler)};
    // Patterns hold {name} placeholders, which are not valid URL characters: split them by hand.
    std::string_view rest(pattern);
    while (!rest.empty()) {
        rest.remove_prefix(1); // the '/'
        auto slash = rest.find('/');
        r.segments.emplace_back(rest.substr(0, slash));
        rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
    }
    // "/" has no segments, as split_path finds for the request ("/ui/" keeps its trailing empty one, like it).
    if (pattern == "/")
        r.segments.clear();
    routes_.push_back(std::move(r));
}

route_match router::match(std::string_view method, std::string_view target) const
{
    route_match out;
    auto segments = split_path(target);
    if (!segments) {
        out.error = api_error{errc::bad_request, "invalid_path", "the request target is not a valid path", {}};
        return out;
    }
    std::vector<std::string> allowed;
    for (const auto& r : routes_) {
        if (r.segments.size() != segments->size())
            continue;
        std::vector<std::string> params;
        bool same = true;
        for (std::size_t i = 0; i < r.segments.size() && same; ++i) {
            const std::string& want = r.segments[i];
            if (want.size() > 2 && want.front() == '{' && want.back() == '}') {
                if ((*segments)[i].empty())
                    same = false;
                else
                    params.push_back((*segments)[i]);
            } else {
                same = want == (*segments)[i];
            }
        }
        if (!same)
            continue;
        if (r.method == method || (method == "HEAD" && r.method == "GET")) {
            out.matched = &r;
            out.params = std::move(params);
            return out;
        }
        allowed.push_back(r.method);
        if (r.method == "GET")
            allowed.push_back("HEAD");
    }
    if (allowed.empty()) {
        out.error = api_error{errc::not_found, "route_not_found", fmt::format("no endpoint at {}", target), {}};
    } else {
        for (const auto& m : allowed)
            out.allow += (out.allow.empty() ? "" : ", ") + m;
        out.error = api_error{errc::method_not_allowed, "method_not_allowed",
                              fmt::format("{} is not allowed here; allowed: {}", method, out.allow), {}};
    }
    return out;
}

namespace {

// True when a Content-Type header value names JSON (parameters such as charset allowed).
bool is_json_content_type(std::string_view value)
{
    auto semicolon = value.find(';');
    std::string_view type = value.substr(0, semicolon);
    while (!type.empty() && type.back() == ' ')
        type.remove_suffix(1);
    std::string lower(type);
    for (auto& c : lower)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return lower == "application/json" || (lower.starts_with("application/") && lower.ends_with("+json"));
}

} // namespace

boost::asio::awaitable<std::optional<http_response>> router::admit(const route& r, const http_request& request,
                                                                   request_context& ctx)
{
    if (r.options.auth == auth_rule::secret_key || r.options.auth == auth_rule::header_key) {
        auto key = co_await authenticate_header(key_cache_of(keys_), lookups_, request.header("authorization"));
        if (!key)
            co_return error_response(key.error());
        if (r.options.auth == auth_rule::secret_key) {
            if (auto denied = require_secret(*key, r.method + " " + r.pattern))
                co_return error_response(*denied);
        }
        ctx.key = std::move(*key);
        if (auto refused = throttle(*ctx.key, r.options.rate))
            co_return refused;
    } else if (r.options.auth == auth_rule::body_key) {
        ctx.throttle = [this, rate = r.options.rate](const api_key_record& key) { return throttle(key, rate); };
    }
    if (r.options.json_body) {
        std::string_view type = request.header("content-type");
        // An empty body is refused as such (empty_body) by the handler, whatever its type says.
        bool has_body = !request.body.empty();
        if (type.empty() && has_body)
            co_return error_response({errc::unsupported_media_type, "unsupported_media_type",
                                      "Content-Type: application/json is required", {}});
        if (!type.empty() && !is_json_content_type(type))
            co_return error_response({errc::unsupported_media_type, "unsupported_media_type",
                                      fmt::format("Content-Type must be application/json, not {}", type), {}});
    }
    co_return std::nullopt;
}

void router::set_rate_limits(request_rate_limits limits)
{
    limits_ = limits;
    // Buckets are rebuilt lazily with the new rates; a reload refills them, which errs on the side of serving.
    buckets_.clear();
}

std::optional<http_response> router::throttle(const api_key_record& key, rate_class cls)
{
    double per_second = 0;
    switch (cls) {
    case rate_class::none: return std::nullopt;
    case rate_class::write: per_second = limits_.writes_per_second; break;
    case rate_class::bulk: per_second = limits_.bulk_per_minute / 60.0; break;
    case rate_class::read: per_second = limits_.reads_per_second; break;
    }
    if (per_second <= 0)
        return std::nullopt;
    auto now = std::chrono::steady_clock::now();
    double burst = std::max(1.0, cls == rate_class::bulk ? limits_.bulk_per_minute : per_second);
    auto [it, fresh] = buckets_.try_emplace({key.id, cls}, token_bucket({per_second, burst}, now));
    if (it->second.try_take(1, now))
        return std::nullopt;
    auto retry = it->second.retry_after(1, now);
    daemon_metrics().add("profiled_ratelimit_throttled_total");
    // Sampled: one line every 10 s at most, however hard a client hammers.
    if (now - last_throttle_log_ >= std::chrono::seconds(10)) {
        last_throttle_log_ = now;
        log_event(log_level::warn, "ratelimit.throttled", "request refused by the per-key rate limit",
                  {{"key_prefix", key.prefix},
                   {"project_id", key.project_id},
                   {"project", key.project},
                   {"retry_after", retry.count()}});
    }
    http_response r = error_response({errc::rate_limited, "rate_limited",
                                      fmt::format("too many requests for this key; retry after {} s", retry.count()),
                                      {}});
    r.headers.emplace_back("Retry-After", std::to_string(retry.count()));
    return r;
}

http_response router::response_for_exception(const route& r, std::exception_ptr e)
{
    try {
        std::rethrow_exception(e);
    } catch (const api_exception& e) {
        return error_response(e.error());
    } catch (const store_error& e) {
        log_event(log_level::error, "handler.exception", e.what(),
                  {{"route", r.pattern}, {"method", r.method}, {"failure", failure_name(e.kind())}});
        return store_failure_response(e);
    } catch (const std::exception& e) {
        log_event(log_level::error, "handler.exception", e.what(), {{"route", r.pattern}, {"method", r.method}});
        return error_response(internal_error());
    }
}

boost::asio::awaitable<http_response> router::dispatch(const route_match& match, const http_request& request)
{
    const route& r = *match.matched;
    std::exception_ptr failure;
    try {
        request_context ctx{request, match.params, std::nullopt};
        if (auto refused = co_await admit(r, request, ctx))
            co_return std::move(*refused);
        co_return co_await r.handler(ctx);
    } catch (...) {
        failure = std::current_exception();
    }
    co_return response_for_exception(r, failure);
}

void router::add_upload(std::string method, std::string pattern, route_options options, upload_handler handler)
{
    options.upload = true;
    add(std::move(method), std::move(pattern), options, {});
    routes_.back().upload = std::move(handler);
}

boost::asio::awaitable<opened_upload> router::open_upload(const route_match& match, const http_request& request)
{
    const route& r = *match.matched;
    std::exception_ptr failure;
    try {
        request_context ctx{request, match.params, std::nullopt};
        if (auto refused = co_await admit(r, request, ctx))
            co_return opened_upload{{nullptr, std::move(refused)}, nullptr};
        std::shared_ptr<void> slot;
        if (ctx.key) {
            auto& busy = (*uploads_)[ctx.key->id];
            if (busy >= uploads_per_key_) {
                http_response r = error_response(
                    {errc::rate_limited, "too_many_uploads",
                     fmt::format("this key is already sending {} uploads at once (--max-uploads-per-key); retry when "
                                 "one has finished",
                                 busy),
                     {}});
                r.headers.emplace_back("Retry-After", "1");
                co_return opened_upload{{nullptr, std::move(r)}, nullptr};
            }
            ++busy;
            // Given back when the session lets go of the upload, however it ends.
            slot = std::shared_ptr<void>(nullptr, [uploads = uploads_, id = ctx.key->id](void*) {
                if (auto it = uploads->find(id); it != uploads->end() && --it->second == 0)
                    uploads->erase(it);
            });
        }
        upload_start start = co_await r.upload(ctx);
        co_return opened_upload{std::move(start), std::move(slot)};
    } catch (...) {
        failure = std::current_exception();
    }
    co_return opened_upload{{nullptr, response_for_exception(r, failure)}, nullptr};
}

} // namespace profiled
