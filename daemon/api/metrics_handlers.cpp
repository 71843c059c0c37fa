// GET /metrics: the Prometheus text exposition of every profiled metric.
#include <array>
#include <filesystem>

#include "common/ops/metrics.hpp"
#include "daemon/api/routes.hpp"
#include "daemon/jobs/job_runner.hpp"
#include "daemon/serve/store_health.hpp"

namespace profiled {

namespace {

constexpr std::array job_statuses{job_status::queued, job_status::running, job_status::done, job_status::failed};

// Bytes held in the spool directory right now.
double spool_bytes(const std::string& data_dir)
{
    std::error_code ec;
    double total = 0;
    for (const auto& entry : std::filesystem::directory_iterator(std::filesystem::path(data_dir) / "spool", ec)) {
        std::error_code size_ec;
        auto size = entry.file_size(size_ec);
        if (!size_ec)
            total += static_cast<double>(size);
    }
    return total;
}

// Refreshes the gauges that are read at scrape time, then renders everything.
boost::asio::awaitable<http_response> get_metrics(server_context& ctx, request_context&)
{
    auto counting = ctx.reads.run([](store_reader& r) {
        std::array<std::int64_t, job_statuses.size()> counts{};
        for (std::size_t i = 0; i < job_statuses.size(); ++i)
            counts[i] = r.count_jobs(job_statuses[i]);
        return counts;
    });
    auto& m = daemon_metrics();
    try {
        auto counts = co_await std::move(counting);
        for (std::size_t i = 0; i < job_statuses.size(); ++i)
            m.set("profiled_jobs", metric_labels({{"status", to_string(job_statuses[i])}}),
                  static_cast<double>(counts[i]));
    } catch (const store_error&) {
        // The database is away: the scrape goes on without fresh job counts (the last ones stay), since an outage
        // is when monitoring needs the rest most.
    }
    if (ctx.health)
        m.set("profiled_database_reachable", {}, ctx.health->reachable() ? 1 : 0);
    m.set("profiled_spool_bytes", {}, spool_bytes(ctx.settings.data_dir));
    m.set("profiled_writer_queue_depth", {}, static_cast<double>(ctx.writes.queue_depth()));
    if (ctx.runner) {
        auto stats = ctx.runner->stats();
        m.set("profiled_job_queue_depth", {}, static_cast<double>(stats.queued_jobs + stats.running_jobs));
    }
    http_response r;
    r.status = 200;
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.body = m.render();
    co_return r;
}

} // namespace

// GET /metrics.
void add_metrics_routes(router& routes, server_context& ctx)
{
    routes.add("GET", "/metrics", route_options{.auth = auth_rule::none}, with_context(ctx, get_metrics));
}

} // namespace profiled
