// Listing: a project's users and companies page by page, by internal id.
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "common/ops/clock.hpp"
#include "common/profiles/profile_json.hpp"
#include "daemon/api/page_params.hpp"
#include "daemon/api/routes.hpp"

namespace profiled {
namespace json = boost::json;
namespace net = boost::asio;

namespace {

constexpr int default_page = 100;
constexpr int max_page = 1000;

// The paging of a listing request: page size, cursor and updated_since, or the 400 for the first bad one.
struct listing_request {
    int limit = default_page;
    std::optional<std::string> cursor;
    std::optional<std::int64_t> updated_since;
};

// The listing parameters of the request's query.
result<listing_request> parse_listing(const http_request& request)
{
    auto params = query_params(request);
    listing_request out;
    auto limit = integer_param(params, "limit", default_page, 1, max_page);
    if (!limit)
        return limit.error();
    out.limit = static_cast<int>(*limit);
    out.cursor = cursor_param(params);
    auto since = updated_since_param(params);
    if (!since)
        return since.error();
    out.updated_since = *since;
    return out;
}

// GET /v1/users?limit=&cursor=&updated_since=: each user as GET /v1/users/{user_id} shows it.
net::awaitable<http_response> list_users(server_context& ctx, request_context& rc)
{
    auto listing = parse_listing(rc.request);
    if (!listing)
        co_return error_response(listing.error());
    auto lookup = ctx.reads.run([project = rc.key->project_id, l = *listing](store_reader& r) {
        return r.list_users(project, l.cursor, l.updated_since, l.limit);
    });
    auto page = co_await std::move(lookup);
    if (!page)
        co_return error_response(bad_cursor());
    json::array users;
    for (const auto& u : page->users)
        users.push_back(user_to_json(u));
    co_return json_response(200,
                            json::object{{"users", std::move(users)}, {"next_cursor", cursor_json(page->next_cursor)}});
}

// GET /v1/companies?limit=&cursor=&updated_since=: each company as GET /v1/companies/{company_id} shows it.
net::awaitable<http_response> list_companies(server_context& ctx, request_context& rc)
{
    auto listing = parse_listing(rc.request);
    if (!listing)
        co_return error_response(listing.error());
    auto lookup = ctx.reads.run([project = rc.key->project_id, l = *listing](store_reader& r) {
        return r.list_companies(project, l.cursor, l.updated_since, l.limit);
    });
    auto page = co_await std::move(lookup);
    if (!page)
        co_return error_response(bad_cursor());
    json::array companies;
    for (const auto& c : page->companies)
        companies.push_back(company_to_json(c));
    co_return json_response(200, json::object{{"companies", std::move(companies)},
                                              {"next_cursor", cursor_json(page->next_cursor)}});
}

} // namespace

void add_listing_routes(router& routes, server_context& ctx)
{
    route_options read{.auth = auth_rule::secret_key, .rate = rate_class::read};
    routes.add("GET", "/v1/users", read, with_context(ctx, list_users));
    routes.add("GET", "/v1/companies", read, with_context(ctx, list_companies));
}

} // namespace profiled
