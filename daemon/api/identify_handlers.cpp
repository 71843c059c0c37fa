// The Userpilot-style single writes and profile reads.
#include <memory>

#include <boost/json/object.hpp>

#include "common/ops/clock.hpp"
#include "common/profiles/profile_json.hpp"
#include "common/profiles/profile_merge.hpp"
#include "common/profiles/requests.hpp"
#include "common/profiles/user_writes.hpp"
#include "daemon/api/routes.hpp"

namespace profiled {
namespace json = boost::json;

namespace {

// Sends 202 {} once the write is durable, or the write's error.
writer::completion accepted_when_durable(responder respond)
{
    return [respond = std::move(respond)](std::optional<api_error> error) {
        if (error)
            return respond(error_response(*error));
        respond(json_response(202, json::object{}));
    };
}

// POST /v1/identify.
void identify(server_context& ctx, request_context& rc, responder respond)
{
    std::string_view version = rc.request.header("x-api-version");
    if (version.empty())
        return respond(error_response(missing_field("X-API-Version")));
    if (version != "2020-09-22")
        return respond(error_response(invalid_field(
            "X-API-Version", "X-API-Version must be 2020-09-22, the only version profiled speaks")));
    auto body = parse_json_object(rc.request.body);
    if (!body)
        return respond(error_response(body.error()));
    auto req = parse_identify(*body);
    if (!req)
        return respond(error_response(req.error()));
    std::int64_t project = rc.key->project_id;
    // Serialized here, so the writer thread only binds and steps.
    std::vector<user_upsert> user{to_upsert(req->user)};
    std::vector<company_upsert> company;
    if (req->company)
        company.push_back(to_upsert(*req->company));
    ctx.writes.submit(
        [&] {
            std::int64_t now = now_ms();
            std::vector<store_operation> ops;
            if (!company.empty())
                ops.push_back(upsert_companies{project, std::move(company), now});
            ops.push_back(upsert_users{project, std::move(user), now});
            return ops;
        }(),
        accepted_when_durable(std::move(respond)));
}

// POST /v1/companies/identify.
void identify_company(server_context& ctx, request_context& rc, responder respond)
{
    auto body = parse_json_object(rc.request.body);
    if (!body)
        return respond(error_response(body.error()));
    auto change = parse_company_identify(*body);
    if (!change)
        return respond(error_response(change.error()));
    std::int64_t project = rc.key->project_id;
    ctx.writes.submit({upsert_company(project, *change, now_ms())}, accepted_when_durable(std::move(respond)));
}

// GET /v1/users/{user_id}.
void get_user(server_context& ctx, request_context& rc, responder respond)
{
    auto user = ctx.reader.find_user(rc.key->project_id, rc.params[0]);
    if (!user)
        return respond(error_response(not_found("user", rc.params[0])));
    respond(json_response(200, user_to_json(*user)));
}

// GET /v1/companies/{company_id}.
void get_company(server_context& ctx, request_context& rc, responder respond)
{
    auto company = ctx.reader.find_company(rc.key->project_id, rc.params[0]);
    if (!company)
        return respond(error_response(not_found("company", rc.params[0])));
    respond(json_response(200, company_to_json(*company)));
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
