// GET /metrics: the Prometheus text exposition of every profiled metric.
#include <algorithm>
#include <array>
#include <filesystem>
#include <sys/statvfs.h>

#include "common/ops/clock.hpp"
#include "common/ops/metrics.hpp"
#include "common/ops/process_stats.hpp"
#include "daemon/api/routes.hpp"
#include "daemon/jobs/job_runner.hpp"
#include "daemon/serve/store_health.hpp"

namespace profiled {

namespace {

constexpr std::array job_statuses{job_status::queued, job_status::running, job_status::done, job_status::failed};
// The database's size is asked at most this often: on a large PostgreSQL database it stats every relation's files.
constexpr std::int64_t database_size_interval_ms = 10'000;

// What one scrape reads from the store, on a reader thread.
struct store_numbers {
    std::array<std::int64_t, job_statuses.size()> counts{};
    job_backlog backlog;
    std::optional<std::int64_t> database_bytes; // asked only when due
};

// When the database's size was last asked (io thread only, like every scrape).
std::int64_t database_size_asked_at = 0;

// Free and total bytes of the data directory's filesystem, as an unprivileged process may use them.
void set_filesystem_gauges(metrics_registry& m, const std::string& data_dir)
{
    struct statvfs fs {};
    if (::statvfs(data_dir.c_str(), &fs) != 0)
        return;
    m.set("profiled_data_dir_free_bytes", {}, static_cast<double>(fs.f_bavail) * static_cast<double>(fs.f_frsize));
    m.set("profiled_data_dir_size_bytes", {}, static_cast<double>(fs.f_blocks) * static_cast<double>(fs.f_frsize));
}

// The standard process_* gauges from /proc/self.
void set_process_gauges(metrics_registry& m)
{
    auto stats = read_process_stats();
    if (!stats)
        return;
    m.set("process_cpu_seconds_total", {}, stats->cpu_seconds);
    m.set("process_resident_memory_bytes", {}, stats->resident_bytes);
    m.set("process_virtual_memory_bytes", {}, stats->virtual_bytes);
    m.set("process_open_fds", {}, stats->open_fds);
    if (stats->max_fds > 0)
        m.set("process_max_fds", {}, stats->max_fds);
    m.set("process_start_time_seconds", {}, stats->start_time_seconds);
}

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
    std::int64_t now = now_ms();
    bool size_due = now - database_size_asked_at >= database_size_interval_ms;
    if (size_due)
        database_size_asked_at = now;
    auto counting = ctx.reads.run([size_due](store_reader& r) {
        store_numbers numbers;
        for (std::size_t i = 0; i < job_statuses.size(); ++i)
            numbers.counts[i] = r.count_jobs(job_statuses[i]);
        numbers.backlog = r.read_job_backlog();
        if (size_due)
            numbers.database_bytes = r.database_bytes();
        return numbers;
    });
    auto& m = daemon_metrics();
    try {
        auto numbers = co_await std::move(counting);
        for (std::size_t i = 0; i < job_statuses.size(); ++i)
            m.set("profiled_jobs", metric_labels({{"status", to_string(job_statuses[i])}}),
                  static_cast<double>(numbers.counts[i]));
        m.set("profiled_job_rows_waiting", metric_labels({{"status", "queued"}}),
              static_cast<double>(numbers.backlog.queued_rows));
        m.set("profiled_job_rows_waiting", metric_labels({{"status", "running"}}),
              static_cast<double>(numbers.backlog.running_rows));
        // The submitting daemon's clock against this one's: never below 0 when they disagree a little.
        double age = numbers.backlog.oldest_queued_at
                         ? std::max<double>(0, static_cast<double>(now - *numbers.backlog.oldest_queued_at) / 1000.0)
                         : 0;
        m.set("profiled_oldest_queued_job_age_seconds", {}, age);
        if (numbers.database_bytes)
            m.set("profiled_database_size_bytes", {}, static_cast<double>(*numbers.database_bytes));
    } catch (const store_error&) {
        // The database is away: the scrape goes on without fresh job counts (the last ones stay), since an outage
        // is when monitoring needs the rest most.
    }
    if (ctx.health)
        m.set("profiled_database_reachable", {}, ctx.health->reachable() ? 1 : 0);
    m.set("profiled_spool_bytes", {}, spool_bytes(ctx.settings.data_dir));
    set_filesystem_gauges(m, ctx.settings.data_dir);
    set_process_gauges(m);
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
