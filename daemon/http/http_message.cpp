#include "daemon/http/http_message.hpp"

#include <boost/json/serialize.hpp>

#include "common/formats/utf8.hpp"

namespace profiled {
namespace json = boost::json;

std::string_view http_request::header(std::string_view name) const
{
    for (const auto& [k, v] : headers) {
        if (k == name)
            return v;
    }
    return {};
}

http_response json_response(int status, const json::value& body)
{
    http_response r;
    r.status = status;
    r.body = json::serialize(body);
    return r;
}

http_response json_text_response(int status, std::string body)
{
    http_response r;
    r.status = status;
    r.body = std::move(body);
    return r;
}

int http_status(errc kind)
{
    switch (kind) {
    case errc::bad_request: return 400;
    case errc::unauthorized: return 401;
    case errc::forbidden: return 403;
    case errc::not_found: return 404;
    case errc::method_not_allowed: return 405;
    case errc::request_timeout: return 408;
    case errc::conflict: return 409;
    case errc::payload_too_large: return 413;
    case errc::unsupported_media_type: return 415;
    case errc::unprocessable: return 422;
    case errc::rate_limited: return 429;
    case errc::unavailable: return 503;
    case errc::timed_out: return 503;
    case errc::unreachable: return 503;
    case errc::insufficient_storage: return 507;
    case errc::internal: return 500;
    }
    return 500;
}

http_response error_response(const api_error& e)
{
    // Messages and fields may quote the client's bytes (a path, a header); the body must stay valid JSON.
    json::object details;
    if (!e.field.empty())
        details["field"] = valid_utf8(e.field);
    json::object item{{"error_code", e.code}, {"message", valid_utf8(e.message)}, {"details", std::move(details)}};
    json::object body{{"success", false}, {"errors", json::array{std::move(item)}}};
    http_response r = json_response(http_status(e.kind), body);
    if (e.kind == errc::unauthorized)
        r.headers.emplace_back("WWW-Authenticate", "Token");
    // The store is slow right now, not broken: a prompt retry usually finds it answering.
    if (e.kind == errc::timed_out)
        r.headers.emplace_back("Retry-After", "1");
    // The database is away (restarting, failing over): it takes seconds, not milliseconds, to come back.
    if (e.kind == errc::unreachable)
        r.headers.emplace_back("Retry-After", std::to_string(unreachable_retry_seconds));
    return r;
}

} // namespace profiled
