// Export: a project's users or companies as one NDJSON stream, read from one snapshot on an export thread.
#include <boost/asio/this_coro.hpp>
#include <boost/json/serialize.hpp>
#include <fmt/format.h>

#include "common/profiles/profile_json.hpp"
#include "daemon/api/export_stream.hpp"
#include "daemon/api/page_params.hpp"
#include "daemon/api/routes.hpp"
#include "daemon/serve/export_channel.hpp"
#include "daemon/serve/export_pool.hpp"

namespace profiled {
namespace net = boost::asio;

namespace {

// Rows read from the snapshot at a time, and pages that may wait for the client: what an export holds in memory.
constexpr int export_page_rows = 1000;
constexpr std::size_t export_queue_pages = 4;
// When a client refused for want of a free export thread should try again.
constexpr const char* export_retry_seconds = "10";

enum class export_kind { users, companies };

// The next page of the snapshot as NDJSON, each row as its single GET shows it; no rows at the end.
export_piece read_page(profile_snapshot& snapshot, export_kind kind)
{
    export_piece piece;
    auto add = [&piece](const boost::json::object& row) {
        piece.lines += boost::json::serialize(row);
        piece.lines += '\n';
        ++piece.rows;
    };
    if (kind == export_kind::users) {
        for (const auto& user : snapshot.next_users(export_page_rows))
            add(user_to_json(user));
    } else {
        for (const auto& company : snapshot.next_companies(export_page_rows))
            add(company_to_json(company));
    }
    return piece;
}

// On an export thread: reads the project's snapshot page by page into channel until the end, the client's going
// (the snapshot then ends at once) or a failure, which the channel passes on. Gives the export's slot back once
// the snapshot is closed, before the end is told: a client that has the whole export may start the next at once.
void read_export(store& db, std::int64_t project, export_kind kind, std::optional<std::int64_t> updated_since,
                 export_channel& channel, std::shared_ptr<void> slot)
{
    std::exception_ptr failure;
    try {
        auto snapshot = db.open_snapshot(project, updated_since);
        for (;;) {
            auto piece = read_page(*snapshot, kind);
            if (piece.rows == 0)
                break;
            if (!channel.push(std::move(piece)))
                return;
        }
    } catch (...) {
        failure = std::current_exception();
    }
    slot.reset();
    channel.finish(failure);
}

// GET /v1/users/export, /v1/companies/export ?updated_since=: the whole project, one profile per line, ended by
// the X-Profiled-Export-Rows trailer.
net::awaitable<http_response> export_profiles(server_context& ctx, request_context& rc, export_kind kind)
{
    auto since = updated_since_param(query_params(rc.request));
    if (!since)
        co_return error_response(since.error());
    std::string what = kind == export_kind::users ? "users" : "companies";
    auto executor = co_await net::this_coro::executor;
    auto channel = std::make_shared<export_channel>(executor, export_queue_pages);
    std::int64_t project = rc.key->project_id;
    auto slot = ctx.exports->take_slot();
    if (!slot) {
        auto busy = error_response({errc::unavailable,
                                    "too_many_exports",
                                    fmt::format("{} exports are running on this server (--max-exports); retry later",
                                                ctx.settings.max_exports),
                                    {}});
        busy.headers.emplace_back("Retry-After", export_retry_seconds);
        co_return busy;
    }
    std::function<void()> job = [&db = ctx.db, channel, project, kind, updated_since = *since, slot]() mutable {
        read_export(db, project, kind, updated_since, *channel, std::move(slot));
    };
    ctx.exports->run(channel, std::move(job));
    auto body = std::make_shared<export_stream>(channel, std::move(slot), what, project,
                                                std::chrono::seconds(ctx.settings.request_timeout_seconds),
                                                std::chrono::seconds(ctx.settings.export_write_timeout_seconds));
    co_await body->start();
    http_response r;
    r.status = 200;
    r.content_type = "application/x-ndjson";
    r.headers.emplace_back("Trailer", export_rows_trailer);
    r.headers.emplace_back("Cache-Control", "no-store");
    r.stream = std::move(body);
    co_return r;
}

// GET /v1/users/export.
net::awaitable<http_response> export_users(server_context& ctx, request_context& rc)
{
    return export_profiles(ctx, rc, export_kind::users);
}

// GET /v1/companies/export.
net::awaitable<http_response> export_companies(server_context& ctx, request_context& rc)
{
    return export_profiles(ctx, rc, export_kind::companies);
}

} // namespace

void add_export_routes(router& routes, server_context& ctx)
{
    route_options read{.auth = auth_rule::secret_key, .rate = rate_class::read};
    routes.add("GET", "/v1/users/export", read, with_context(ctx, export_users));
    routes.add("GET", "/v1/companies/export", read, with_context(ctx, export_companies));
}

} // namespace profiled
