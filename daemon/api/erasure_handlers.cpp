// Erasure (GDPR): DELETE of one user or company, and Userpilot's bulk form of many at once.
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <fmt/format.h>

#include "common/formats/utf8.hpp"
#include "common/ops/log.hpp"
#include "common/ops/project_names.hpp"
#include "common/profiles/requests.hpp"
#include "daemon/api/routes.hpp"

namespace profiled {
namespace json = boost::json;
namespace net = boost::asio;

namespace {

// The most ids one bulk deletion may name.
constexpr std::size_t max_bulk_ids = 10000;

// What an erasure route erases: users or companies.
struct erasure_kind {
    bool users;
    const char* what;  // "user", "company": the object a 404 names
    const char* field; // "users", "companies": the bulk body's array
    const char* event; // the log event of an erasure
};
constexpr erasure_kind users_kind{true, "user", "users", "user.deleted"};
constexpr erasure_kind companies_kind{false, "company", "companies", "company.deleted"};

// The erasure of ids as a store operation.
store_operation erase_operation(const erasure_kind& kind, std::int64_t project, std::vector<std::string> ids)
{
    if (kind.users)
        return erase_users{project, std::move(ids)};
    return erase_companies{project, std::move(ids)};
}

// Whether a path id could name a stored profile at all: every stored id is valid UTF-8 of at most max_id_bytes.
bool could_be_stored(const std::string& id) { return !id.empty() && id.size() <= max_id_bytes && valid_utf8(id) == id; }

// The ids of a bulk deletion body ({"users": [ids]} or {"companies": [ids]}), or the 400 that says what is wrong.
result<std::vector<std::string>> bulk_ids(const json::object& body, const char* field)
{
    auto* list = body.if_contains(field);
    if (!list || list->is_null())
        return missing_field(field);
    if (!list->is_array())
        return invalid_field(field, fmt::format("{} must be an array of ids", field));
    const json::array& ids = list->get_array();
    if (ids.empty())
        return invalid_field(field, fmt::format("{} must name at least one id", field));
    if (ids.size() > max_bulk_ids)
        return invalid_field(field, fmt::format("{} may name at most {} ids, not {}", field, max_bulk_ids, ids.size()));
    std::vector<std::string> out;
    out.reserve(ids.size());
    for (std::size_t i = 0; i < ids.size(); ++i) {
        if (!ids[i].is_string())
            return invalid_field(field, fmt::format("{}[{}] must be a string", field, i));
        const json::string& id = ids[i].get_string();
        if (id.empty())
            return invalid_field(field, fmt::format("{}[{}] must not be empty", field, i));
        if (id.size() > max_id_bytes)
            return invalid_field(field, fmt::format("{}[{}] is longer than {} bytes", field, i, max_id_bytes));
        out.emplace_back(id);
    }
    return out;
}

// Erases the ids through the writer: the profiles removed, once durable, or the write's refusal.
net::awaitable<result<std::int64_t>> erase(server_context& ctx, const erasure_kind& kind, std::int64_t project,
                                           std::vector<std::string> ids)
{
    std::size_t requested = ids.size();
    std::vector<store_operation> ops;
    ops.push_back(erase_operation(kind, project, std::move(ids)));
    auto write = written_outcomes(ctx, std::move(ops));
    auto outcome = co_await std::move(write);
    if (outcome.failure)
        co_return *outcome.failure;
    std::int64_t removed = outcome.outcomes.front().count;
    // Counts only: the ids are the personal data being erased.
    log_event(log_level::info, kind.event, fmt::format("{} profiles erased", kind.what),
              {{"project_id", project},
               {"project", known_projects().name_of(project)},
               {"requested", requested},
               {"deleted", removed}});
    co_return removed;
}

// DELETE /v1/users/{user_id}, DELETE /v1/companies/{company_id}: 204 once durable; 404 when no profile was there.
net::awaitable<http_response> erase_one(server_context& ctx, request_context& rc, const erasure_kind& kind)
{
    const std::string& id = rc.params[0];
    if (!could_be_stored(id))
        co_return error_response(not_found(kind.what, id));
    auto erased = erase(ctx, kind, rc.key->project_id, {id});
    auto removed = co_await std::move(erased);
    if (!removed)
        co_return error_response(removed.error());
    if (*removed == 0)
        co_return error_response(not_found(kind.what, id));
    http_response r;
    r.status = 204;
    co_return r;
}

// DELETE /v1/users {"users": [...]}, DELETE /v1/companies {"companies": [...]}: 200 {"deleted": n} once durable.
net::awaitable<http_response> erase_many(server_context& ctx, request_context& rc, const erasure_kind& kind)
{
    auto body = parse_json_object(rc.request.body);
    if (!body)
        co_return error_response(body.error());
    auto ids = bulk_ids(*body, kind.field);
    if (!ids)
        co_return error_response(ids.error());
    auto erased = erase(ctx, kind, rc.key->project_id, std::move(*ids));
    auto removed = co_await std::move(erased);
    if (!removed)
        co_return error_response(removed.error());
    co_return json_response(200, json::object{{"deleted", *removed}});
}

// DELETE /v1/users/{user_id}.
net::awaitable<http_response> erase_user(server_context& ctx, request_context& rc)
{
    return erase_one(ctx, rc, users_kind);
}
// DELETE /v1/companies/{company_id}.
net::awaitable<http_response> erase_company(server_context& ctx, request_context& rc)
{
    return erase_one(ctx, rc, companies_kind);
}
// DELETE /v1/users {"users": [...]}.
net::awaitable<http_response> erase_users_in_bulk(server_context& ctx, request_context& rc)
{
    return erase_many(ctx, rc, users_kind);
}
// DELETE /v1/companies {"companies": [...]}.
net::awaitable<http_response> erase_companies_in_bulk(server_context& ctx, request_context& rc)
{
    return erase_many(ctx, rc, companies_kind);
}

} // namespace

void add_erasure_routes(router& routes, server_context& ctx)
{
    route_options one{.auth = auth_rule::secret_key, .rate = rate_class::write};
    route_options many{.auth = auth_rule::secret_key, .rate = rate_class::write, .json_body = true};
    routes.add("DELETE", "/v1/users/{user_id}", one, with_context(ctx, erase_user));
    routes.add("DELETE", "/v1/companies/{company_id}", one, with_context(ctx, erase_company));
    routes.add("DELETE", "/v1/users", many, with_context(ctx, erase_users_in_bulk));
    routes.add("DELETE", "/v1/companies", many, with_context(ctx, erase_companies_in_bulk));
}

} // namespace profiled
