#include "daemon/serve.hpp"

#include <csignal>
#include <filesystem>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>

#include "common/clock.hpp"
#include "common/log.hpp"
#include "common/metrics.hpp"
#include "common/store.hpp"
#include "common/systemd_notify.hpp"
#include "daemon/http_server.hpp"
#include "daemon/job_runner.hpp"
#include "daemon/router.hpp"
#include "daemon/routes.hpp"
#include "daemon/server_context.hpp"
#include "daemon/writer.hpp"

namespace profiled {

namespace net = boost::asio;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

constexpr auto status_interval = 5s;

// The per-key request limits a settings object asks for.
request_rate_limits rate_limits_of(const server_settings& s)
{
    return {s.rate_limit_writes, s.rate_limit_bulk, s.rate_limit_reads};
}

// Everything the running daemon is made of, for the signal handlers and timers.
struct daemon_parts {
    net::io_context& io;
    server_context& ctx;
    http_server& server;
    job_runner& runner;
    router& routes;
    systemd_notifier& notifier;
    std::vector<std::string> args;
};

// Stops accepting, lets in-flight requests finish within the grace period, then ends the event loop.
net::awaitable<void> drain_and_stop(daemon_parts& d)
{
    d.runner.stop();
    d.server.stop_accepting();
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(d.ctx.settings.shutdown_grace_seconds);
    net::steady_timer tick(d.io);
    while (d.server.requests_in_flight() > 0 && std::chrono::steady_clock::now() < deadline) {
        tick.expires_after(10ms);
        co_await tick.async_wait(net::as_tuple(net::use_awaitable));
    }
    if (d.server.requests_in_flight() > 0)
        log_event(log_level::warn, "server.grace_expired", "closing connections with requests still in flight",
                  {{"in_flight", d.server.requests_in_flight()}});
    d.server.close_all();
    d.io.stop();
}

// SIGHUP: re-reads flags, environment and config file; applies rates and log settings, or keeps the old ones.
void reload(daemon_parts& d)
{
    try {
        server_settings fresh = load_server_settings(d.args).settings;
        server_settings& s = d.ctx.settings;
        s.format = fresh.format;
        s.level = fresh.level;
        s.access_log = fresh.access_log;
        s.rows_per_minute = fresh.rows_per_minute;
        s.rows_burst = fresh.rows_burst;
        s.rate_limit_writes = fresh.rate_limit_writes;
        s.rate_limit_bulk = fresh.rate_limit_bulk;
        s.rate_limit_reads = fresh.rate_limit_reads;
        s.max_queued_jobs = fresh.max_queued_jobs;
        set_log_format(s.format);
        set_log_level(s.level);
        d.runner.set_rate(s.rows_per_minute, s.rows_burst);
        d.routes.set_rate_limits(rate_limits_of(s));
        log_event(log_level::info, "config.reloaded", "settings reloaded",
                  {{"rows_per_minute", s.rows_per_minute}, {"rows_burst", s.rows_burst},
                   {"access_log", s.access_log}});
    } catch (const std::exception& e) {
        log_event(log_level::error, "config.reload_failed", std::string(e.what()) + "; keeping the previous settings");
    }
}

// Waits for SIGHUP again and again.
void watch_reload(net::signal_set& hup, daemon_parts& d)
{
    hup.async_wait([&hup, &d](const boost::system::error_code& ec, int) {
        if (ec)
            return;
        reload(d);
        watch_reload(hup, d);
    });
}

// WATCHDOG=1 from the event loop itself, so a stuck loop stops pinging and systemd restarts us.
net::awaitable<void> watchdog(daemon_parts& d, std::chrono::microseconds interval)
{
    net::steady_timer timer(d.io);
    while (!d.ctx.stopping) {
        d.notifier.notify("WATCHDOG=1");
        timer.expires_after(interval);
        co_await timer.async_wait(net::as_tuple(net::use_awaitable));
    }
}

// STATUS= for `systemctl status`: queue depth and the current bulk row rate.
net::awaitable<void> report_status(daemon_parts& d)
{
    net::steady_timer timer(d.io);
    auto last = d.runner.stats();
    auto last_time = std::chrono::steady_clock::now();
    while (!d.ctx.stopping) {
        timer.expires_after(status_interval);
        co_await timer.async_wait(net::as_tuple(net::use_awaitable));
        auto now = std::chrono::steady_clock::now();
        auto stats = d.runner.stats();
        double seconds = std::chrono::duration<double>(now - last_time).count();
        double rate = seconds > 0 ? static_cast<double>((stats.rows_applied + stats.rows_failed) -
                                                        (last.rows_applied + last.rows_failed)) / seconds
                                  : 0;
        d.notifier.notify(fmt::format("STATUS=jobs queued {}, running {}; {:.0f} rows/s; writer queue {}",
                                      stats.queued_jobs, stats.running_jobs, rate, d.ctx.writes.queue_depth()));
        last = stats;
        last_time = now;
    }
}

} // namespace

// Runs the daemon in the foreground.
int run_serve(const server_settings& settings, const std::vector<std::string>& args)
{
    set_log_format(settings.format);
    set_log_level(settings.level);
    auto started = std::chrono::steady_clock::now();
    systemd_notifier notifier;
    auto& m = daemon_metrics();
    m.set("profiled_build_info", metric_labels({{"version", PROFILED_VERSION}}), 1);
    m.set("profiled_process_start_time_seconds", {}, static_cast<double>(now_ms()) / 1000.0);
    try {
        fs::path data_dir(settings.data_dir);
        fs::create_directories(data_dir / "spool");
        auto db = open_sqlite_store((data_dir / "profiled.db").string());
        writer writes(*db);
        writes.on_batch([](std::size_t items, double seconds) {
            auto& m = daemon_metrics();
            m.observe("profiled_writer_batch_rows", {}, static_cast<double>(items));
            m.observe("profiled_writer_commit_duration_seconds", {}, seconds);
        });
        auto reader = db->open_reader();
        server_context ctx{settings, *db, *reader, writes};

        net::io_context io(1);
        job_runner runner(io, ctx);
        ctx.runner = &runner;
        runner.recover();
        router routes(*reader);
        routes.set_rate_limits(rate_limits_of(settings));
        add_all_routes(routes, ctx);
        http_server server(io, routes, ctx);
        std::uint16_t port = server.listen(settings.listen);
        server.start();
        runner.start();
        ctx.ready = true;
        daemon_parts parts{io, ctx, server, runner, routes, notifier, args};

        net::signal_set stop_signals(io, SIGINT, SIGTERM);
        stop_signals.async_wait([&](const boost::system::error_code& ec, int signo) {
            if (ec)
                return;
            log_event(log_level::info, "server.stopping", "shutting down",
                      {{"signal", signo == SIGTERM ? "SIGTERM" : "SIGINT"}});
            notifier.notify("STOPPING=1");
            ctx.stopping = true;
            net::co_spawn(io, drain_and_stop(parts), net::detached);
        });
        net::signal_set hup(io, SIGHUP);
        watch_reload(hup, parts);
        if (auto interval = notifier.watchdog_interval())
            net::co_spawn(io, watchdog(parts, *interval), net::detached);
        if (notifier.enabled())
            net::co_spawn(io, report_status(parts), net::detached);

        double startup = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        log_event(log_level::info, "server.ready", "listening",
                  {{"listen", settings.listen}, {"port", port}, {"data_dir", settings.data_dir},
                   {"version", PROFILED_VERSION}, {"startup_seconds", startup}});
        notifier.notify(fmt::format("READY=1\nSTATUS=listening on port {}", port));
        io.run();
        writes.stop();
        log_event(log_level::info, "server.stopped", "stopped cleanly");
        return 0;
    } catch (const std::exception& e) {
        log_event(log_level::error, "server.failed", e.what());
        return 1;
    }
}

} // namespace profiled
