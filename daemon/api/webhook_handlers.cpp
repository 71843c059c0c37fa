// Webhooks: registration of a project's receivers of job events, their listing and removal, and the record of
// their deliveries' attempts.
#include <boost/asio/ip/address.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <fmt/format.h>

#include "common/ops/clock.hpp"
#include "common/ops/log.hpp"
#include "common/profiles/ids.hpp"
#include "common/profiles/requests.hpp"
#include "daemon/api/page_params.hpp"
#include "daemon/api/routes.hpp"
#include "daemon/webhooks/address_policy.hpp"
#include "daemon/webhooks/webhook_url.hpp"

namespace profiled {
namespace json = boost::json;
namespace net = boost::asio;

namespace {

// The most webhooks one project may have.
constexpr std::int64_t max_webhooks_per_project = 20;
constexpr int default_page = 20;
constexpr int max_page = 100;

// The hex text of n random bytes.
std::string random_hex(std::size_t n)
{
    static constexpr char hex[] = "0123456789abcdef";
    std::string bytes = random_bytes(n);
    std::string out;
    for (unsigned char c : bytes) {
        out.push_back(hex[c >> 4]);
        out.push_back(hex[c & 0xf]);
    }
    return out;
}

// The events a webhook takes, as the API names them.
json::array events_json(const webhook_record& w)
{
    json::array events;
    if (w.on_done)
        events.emplace_back("job.done");
    if (w.on_failed)
        events.emplace_back("job.failed");
    return events;
}

// A webhook as GET shows it: never with its secret.
json::object webhook_json(const webhook_record& w)
{
    return {{"id", w.webhook_id},
            {"url", w.url},
            {"events", events_json(w)},
            {"created_at", format_rfc3339(w.created_at)}};
}

// One attempt as the deliveries listing shows it.
json::object attempt_json(const delivery_attempt_record& a)
{
    json::object o{{"delivery_id", a.delivery_id},
                   {"event", a.event},
                   {"job_id", a.job_id},
                   {"attempt", a.attempt},
                   {"status_code", nullptr},
                   {"error", nullptr},
                   {"attempted_at", format_rfc3339(a.at)},
                   {"state", std::string(to_string(a.state))}};
    if (a.status_code)
        o["status_code"] = *a.status_code;
    if (a.error)
        o["error"] = *a.error;
    return o;
}

// The webhook a registration body asks for (without id, secret and time), or the 400 that says what is wrong.
result<webhook_record> parse_registration(const json::object& body, bool allow_private)
{
    for (const auto& field : body) {
        if (field.key() != "url" && field.key() != "events")
            return api_error{errc::bad_request, "unknown_field",
                             fmt::format("unknown field {}: a webhook takes url and events", std::string(field.key())),
                             std::string(field.key())};
    }
    webhook_record w;
    const json::value* url = body.if_contains("url");
    if (!url || url->is_null())
        return missing_field("url");
    if (!url->is_string())
        return invalid_field("url", "url must be a string");
    auto target = parse_webhook_url(url->get_string());
    if (!target)
        return target.error();
    boost::system::error_code ignored; // an address the URL parser accepted is one asio reads too
    if (target->host_is_address && !allow_private && !is_public_address(net::ip::make_address(target->host, ignored)))
        return api_error{errc::bad_request, "private_address",
                         "url's host is a loopback, private, link-local or reserved address, which webhooks may not "
                         "reach (see --webhook-allow-private)",
                         "url"};
    w.url = std::string(url->get_string());
    const json::value* events = body.if_contains("events");
    if (!events || events->is_null())
        return missing_field("events");
    if (!events->is_array() || events->get_array().empty())
        return invalid_field("events", "events must be a non-empty array of job.done and job.failed");
    const json::array& list = events->get_array();
    for (std::size_t i = 0; i < list.size(); ++i) {
        if (list[i] == "job.done")
            w.on_done = true;
        else if (list[i] == "job.failed")
            w.on_failed = true;
        else
            return invalid_field("events", fmt::format("events[{}] must be job.done or job.failed", i));
    }
    return w;
}

// POST /v1/webhooks {url, events}: 201 with the webhook and its secret, shown this once.
net::awaitable<http_response> create(server_context& ctx, request_context& rc)
{
    auto body = parse_json_object(rc.request.body);
    if (!body)
        co_return error_response(body.error());
    auto webhook = parse_registration(*body, ctx.settings.webhook_allow_private);
    if (!webhook)
        co_return error_response(webhook.error());
    webhook->webhook_id = "wh_" + random_base62(16);
    webhook->project_id = rc.key->project_id;
    webhook->secret = random_hex(32);
    webhook->created_at = now_ms();
    std::vector<store_operation> ops;
    ops.push_back(create_webhook{*webhook, max_webhooks_per_project});
    auto write = written(ctx, std::move(ops));
    auto refused = co_await std::move(write);
    if (refused)
        co_return error_response(*refused);
    log_event(log_level::info, "webhook.created", "webhook registered",
              {{"project_id", webhook->project_id}, {"webhook_id", webhook->webhook_id}});
    json::object out = webhook_json(*webhook);
    out["secret"] = webhook->secret;
    co_return json_response(201, std::move(out));
}

// GET /v1/webhooks: the project's webhooks, oldest first, without their secrets.
net::awaitable<http_response> list(server_context& ctx, request_context& rc)
{
    auto lookup = ctx.reads.run([project = rc.key->project_id](store_reader& r) { return r.list_webhooks(project); });
    auto webhooks = co_await std::move(lookup);
    json::array out;
    for (const auto& w : webhooks)
        out.push_back(webhook_json(w));
    co_return json_response(200, json::object{{"webhooks", std::move(out)}});
}

// DELETE /v1/webhooks/{id}: 204 once durable, its pending deliveries dropped; 404 when the project has none such.
net::awaitable<http_response> remove(server_context& ctx, request_context& rc)
{
    std::vector<store_operation> ops;
    ops.push_back(delete_webhook{rc.key->project_id, rc.params[0]});
    auto write = written_outcomes(ctx, std::move(ops));
    auto outcome = co_await std::move(write);
    if (outcome.failure)
        co_return error_response(*outcome.failure);
    if (outcome.outcomes.front().count == 0)
        co_return error_response(not_found("webhook", rc.params[0]));
    log_event(log_level::info, "webhook.deleted", "webhook deleted",
              {{"project_id", rc.key->project_id}, {"webhook_id", rc.params[0]}});
    http_response r;
    r.status = 204;
    co_return r;
}

// GET /v1/webhooks/{id}/deliveries?limit=&cursor=: the webhook's attempts, newest first.
net::awaitable<http_response> deliveries(server_context& ctx, request_context& rc)
{
    auto params = query_params(rc.request);
    auto limit = integer_param(params, "limit", default_page, 1, max_page);
    if (!limit)
        co_return error_response(limit.error());
    auto find = ctx.reads.run([project = rc.key->project_id, id = rc.params[0]](store_reader& r) {
        return r.find_webhook(project, id);
    });
    auto webhook = co_await std::move(find);
    if (!webhook)
        co_return error_response(not_found("webhook", rc.params[0]));
    auto lookup = ctx.reads.run([project = rc.key->project_id, id = rc.params[0], cursor = cursor_param(params),
                                 limit = static_cast<int>(*limit)](store_reader& r) {
        return r.list_delivery_attempts(project, id, cursor, limit);
    });
    auto page = co_await std::move(lookup);
    if (!page)
        co_return error_response(bad_cursor());
    json::array attempts;
    for (const auto& a : page->attempts)
        attempts.push_back(attempt_json(a));
    co_return json_response(200, json::object{{"webhook_id", webhook->webhook_id},
                                              {"deliveries", std::move(attempts)},
                                              {"next_cursor", cursor_json(page->next_cursor)}});
}

} // namespace

void add_webhook_routes(router& routes, server_context& ctx)
{
    route_options read{.auth = auth_rule::secret_key, .rate = rate_class::read};
    route_options write{.auth = auth_rule::secret_key, .rate = rate_class::write};
    route_options write_json{.auth = auth_rule::secret_key, .rate = rate_class::write, .json_body = true};
    routes.add("POST", "/v1/webhooks", write_json, with_context(ctx, create));
    routes.add("GET", "/v1/webhooks", read, with_context(ctx, list));
    routes.add("DELETE", "/v1/webhooks/{webhook_id}", write, with_context(ctx, remove));
    routes.add("GET", "/v1/webhooks/{webhook_id}/deliveries", read, with_context(ctx, deliveries));
}

} // namespace profiled
