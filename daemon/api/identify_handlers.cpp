// The Userpilot-style single writes and profile reads.
#include <memory>

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/object.hpp>

#include "common/ops/clock.hpp"
#include "common/profiles/profile_json.hpp"
#include "common/profiles/profile_merge.hpp"
#include "common/profiles/requests.hpp"
#include "common/profiles/user_writes.hpp"
#include "daemon/api/routes.hpp"

namespace profiled {
namespace json = boost::json;
namespace net = boost::asio;

namespace {

// 202 {} once the write is durable, or the write's error.
http_response accepted(const std::optional<api_error>& error)
{
    if (error)
        return error_response(*error);
    return json_response(202, json::object{});
}

// POST /v1/identify.
net::awaitable<http_response> identify(server_context& ctx, request_context& rc)
{
    std::string_view version = rc.request.header("x-api-version");
    if (version.empty())
        co_return error_response(missing_field("X-API-Version"));
    if (version != "2020-09-22")
        co_return error_response(
            invalid_field("X-API-Version", "X-API-Version must be 2020-09-22, the only version profiled speaks"));
    // The parsed body lives only until its objects are serialized below: in memory of the request's own, freed at
    // once, instead of one heap allocation for each key and value.
    json::monotonic_resource parse_memory(2048);
    auto body = parse_json_object(rc.request.body, &parse_memory);
    if (!body)
        co_return error_response(body.error());
    auto req = parse_identify(*body);
    if (!req)
        co_return error_response(req.error());
    std::int64_t project = rc.key->project_id;
    // Serialized here, so the writer thread only binds and steps.
    std::vector<user_upsert> user{to_upsert(req->user)};
    std::vector<company_upsert> company;
    if (req->company)
        company.push_back(to_upsert(*req->company));
    std::int64_t now = now_ms();
    std::vector<store_operation> ops;
    if (!company.empty())
        ops.push_back(upsert_companies{project, std::move(company), now});
    ops.push_back(upsert_users{project, std::move(user), now});
    auto write = written(ctx, std::move(ops));
    auto error = co_await std::move(write);
    co_return accepted(error);
}

// POST /v1/companies/identify.
net::awaitable<http_response> identify_company(server_context& ctx, request_context& rc)
{
    auto body = parse_json_object(rc.request.body);
    if (!body)
        co_return error_response(body.error());
    auto change = parse_company_identify(*body);
    if (!change)
        co_return error_response(change.error());
    std::int64_t project = rc.key->project_id;
    auto write = written(ctx, {upsert_company(project, *change, now_ms())});
    auto error = co_await std::move(write);
    co_return accepted(error);
}

// GET /v1/users/{user_id}.
net::awaitable<http_response> get_user(server_context& ctx, request_context& rc)
{
    auto lookup = ctx.reads.run([project = rc.key->project_id, id = rc.params[0]](store_reader& r) {
        return r.find_user(project, id);
    });
    auto user = co_await std::move(lookup);
    if (!user)
        co_return error_response(not_found("user", rc.params[0]));
    co_return json_response(200, user_to_json(*user));
}

// GET /v1/companies/{company_id}.
net::awaitable<http_response> get_company(server_context& ctx, request_context& rc)
{
    auto lookup = ctx.reads.run([project = rc.key->project_id, id = rc.params[0]](store_reader& r) {
        return r.find_company(project, id);
    });
    auto company = co_await std::move(lookup);
    if (!company)
        co_return error_response(not_found("company", rc.params[0]));
    co_return json_response(200, company_to_json(*company));
}

} // namespace

// POST /v1/identify, POST /v1/companies/identify, GET /v1/users/{id}, GET /v1/companies/{id}.
void add_identify_routes(router& routes, server_context& ctx)
{
    route_options json_write{.auth = auth_rule::secret_key, .rate = rate_class::write, .json_body = true};
    route_options read{.auth = auth_rule::secret_key, .rate = rate_class::read};
    routes.add("POST", "/v1/identify", json_write, with_context(ctx, identify));
    routes.add("POST", "/v1/companies/identify", json_write, with_context(ctx, identify_company));
    routes.add("GET", "/v1/users/{user_id}", read, with_context(ctx, get_user));
    routes.add("GET", "/v1/companies/{company_id}", read, with_context(ctx, get_company));
}

} // namespace profiled
