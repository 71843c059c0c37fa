#include "daemon/serve/serve.hpp"

#include <csignal>
#include <fcntl.h>
#include <filesystem>
#include <functional>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>

#include "common/ops/build_info.hpp"
#include "common/ops/clock.hpp"
#include "common/ops/log.hpp"
#include "common/ops/metrics.hpp"
#include "common/ops/systemd_notify.hpp"
#include "common/store/open_store.hpp"
#include "daemon/api/routes.hpp"
#include "daemon/http/http_server.hpp"
#include "daemon/http/router.hpp"
#include "daemon/jobs/job_runner.hpp"
#include "daemon/jobs/lease_owner.hpp"
#include "daemon/serve/data_dir_lock.hpp"
#include "daemon/serve/export_pool.hpp"
#include "daemon/serve/fd_limit.hpp"
#include "daemon/serve/key_watch.hpp"
#include "daemon/serve/loop_failure.hpp"
#include "daemon/serve/reader_pool.hpp"
#include "daemon/serve/server_context.hpp"
#include "daemon/serve/spool_thread.hpp"
#include "daemon/serve/store_health.hpp"
#include "daemon/serve/writer.hpp"
#include "daemon/webhooks/webhook_sender.hpp"

namespace profiled {

namespace net = boost::asio;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

constexpr auto status_interval = 5s;
// Threads (each with its own store reader) that answer the handlers' reads.
constexpr std::size_t reader_threads = 2;

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

// Waits in small steps until done() holds or the deadline passes; true when done() holds.
net::awaitable<bool> wait_until(net::io_context& io, std::chrono::steady_clock::time_point deadline,
                                const std::function<bool()>& done)
{
    net::steady_timer tick(io);
    while (!done() && std::chrono::steady_clock::now() < deadline) {
        tick.expires_after(10ms);
        co_await tick.async_wait(net::as_tuple(net::use_awaitable));
    }
    co_return done();
}

// Stops accepting, lets in-flight requests finish within the grace period, then ends the event loop.
// The runner takes no new chunk; a chunk already handed to the writer is committed by writes.stop() or not at all.
net::awaitable<void> drain_and_stop(daemon_parts& d)
{
    d.runner.stop();
    d.server.stop_accepting();
    auto grace_end = std::chrono::steady_clock::now() + std::chrono::seconds(d.ctx.settings.shutdown_grace_seconds);
    std::function<bool()> no_requests = [&d] { return d.server.requests_in_flight() == 0; };
    bool drained = co_await wait_until(d.io, grace_end, no_requests);
    if (!drained)
        log_event(log_level::warn, "server.grace_expired", "closing connections with requests still in flight",
                  {{"in_flight", d.server.requests_in_flight()},
                   {"shutdown_grace_seconds", d.ctx.settings.shutdown_grace_seconds}});
    d.server.close_all();
    // Let the sessions unwind (an abandoned upload removes its .part file) before the loop ends.
    std::function<bool()> no_sessions = [&d] { return d.server.open_sessions() == 0; };
    co_await wait_until(d.io, std::chrono::steady_clock::now() + 2s, no_sessions);
    d.io.stop();
}

// The settings that differ between old and fresh but only take effect on a restart, comma-separated.
std::string needing_restart(const server_settings& old, const server_settings& fresh)
{
    std::string out;
    auto note = [&out](bool differs, const char* name) {
        if (differs)
            out += (out.empty() ? "" : ",") + std::string(name);
    };
    note(old.listen != fresh.listen, "listen");
    note(old.data_dir != fresh.data_dir, "data-dir");
    note(old.database != fresh.database, "database");
    note(old.max_body_bytes != fresh.max_body_bytes, "max-body-bytes");
    note(old.max_upload_bytes != fresh.max_upload_bytes, "max-upload-bytes");
    note(old.max_job_rows != fresh.max_job_rows, "max-job-rows");
    note(old.max_header_bytes != fresh.max_header_bytes, "max-header-bytes");
    note(old.read_timeout_seconds != fresh.read_timeout_seconds, "read-timeout");
    note(old.idle_timeout_seconds != fresh.idle_timeout_seconds, "idle-timeout");
    note(old.request_timeout_seconds != fresh.request_timeout_seconds, "request-timeout");
    note(old.shutdown_grace_seconds != fresh.shutdown_grace_seconds, "shutdown-grace");
    note(old.max_exports != fresh.max_exports, "max-exports");
    return out;
}

// SIGHUP: re-reads flags, environment and config file; applies rates and log settings, or keeps the old ones.
void reload(daemon_parts& d)
{
    try {
        server_settings fresh = load_server_settings(d.args).settings;
        server_settings& s = d.ctx.settings;
        std::string restart_needed = needing_restart(s, fresh);
        s.format = fresh.format;
        s.level = fresh.level;
        s.access_log = fresh.access_log;
        s.log_timestamps = fresh.log_timestamps;
        s.rows_per_minute = fresh.rows_per_minute;
        s.rows_burst = fresh.rows_burst;
        s.rate_limit_writes = fresh.rate_limit_writes;
        s.rate_limit_bulk = fresh.rate_limit_bulk;
        s.rate_limit_reads = fresh.rate_limit_reads;
        s.max_queued_jobs = fresh.max_queued_jobs;
        set_log_format(s.format);
        set_log_level(s.level);
        set_log_timestamps(s.log_timestamps);
        d.runner.set_rate(s.rows_per_minute, s.rows_burst);
        d.routes.set_rate_limits(rate_limits_of(s));
        log_event(log_level::info, "config.reloaded", "settings reloaded",
                  {{"config", s.config_file}, {"log_format", s.format == log_format::json ? "json" : "logfmt"},
                   {"rows_per_minute", s.rows_per_minute}, {"rows_burst", s.rows_burst},
                   {"access_log", s.access_log}, {"rate_limit_writes", s.rate_limit_writes},
                   {"rate_limit_bulk", s.rate_limit_bulk}, {"rate_limit_reads", s.rate_limit_reads},
                   {"max_queued_jobs", s.max_queued_jobs}, {"restart_needed", restart_needed}});
    } catch (const std::exception& e) {
        log_event(log_level::error, "config.reload_failed", std::string(e.what()) + "; keeping the previous settings",
                  {{"config", d.ctx.settings.config_file}});
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
// It goes on while draining on shutdown: the loop is alive then, and ends with it.
net::awaitable<void> watchdog(daemon_parts& d, std::chrono::microseconds interval)
{
    net::steady_timer timer(d.io);
    for (;;) {
        d.notifier.notify("WATCHDOG=1");
        timer.expires_after(interval);
        co_await timer.async_wait(net::as_tuple(net::use_awaitable));
    }
}

// The STATUS= text: jobs waiting and running, the bulk row rate, and the writer's backlog.
std::string status_text(daemon_parts& d, double rows_per_second)
{
    auto stats = d.runner.stats();
    return fmt::format("STATUS=jobs queued {}, running {}; {:.0f} rows/s; writer queue {}", stats.queued_jobs,
                       stats.running_jobs, rows_per_second, d.ctx.writes.queue_depth());
}

// STATUS= for `systemctl status`, refreshed every few seconds with the row rate over the last interval.
net::awaitable<void> report_status(daemon_parts& d)
{
    net::steady_timer timer(d.io);
    auto last = d.runner.stats();
    auto last_time = std::chrono::steady_clock::now();
    while (!d.ctx.stopping) {
        timer.expires_after(status_interval);
        co_await timer.async_wait(net::as_tuple(net::use_awaitable));
        if (d.ctx.stopping)
            break;
        auto now = std::chrono::steady_clock::now();
        auto stats = d.runner.stats();
        double seconds = std::chrono::duration<double>(now - last_time).count();
        double rate = seconds > 0 ? static_cast<double>((stats.rows_applied + stats.rows_failed) -
                                                        (last.rows_applied + last.rows_failed)) / seconds
                                  : 0;
        d.notifier.notify(status_text(d, rate));
        last = stats;
        last_time = now;
    }
}

// SIGTERM/SIGINT: the first starts a graceful stop, a second one ends the loop at once.
void watch_stop(net::signal_set& signals, daemon_parts& d)
{
    signals.async_wait([&signals, &d](const boost::system::error_code& ec, int signo) {
        if (ec)
            return;
        const char* name = signo == SIGTERM ? "SIGTERM" : "SIGINT";
        if (d.ctx.stopping) {
            log_event(log_level::warn, "server.stopping", "second stop signal: closing every connection now",
                      {{"signal", name}});
            d.server.close_all();
            d.io.stop();
            return;
        }
        log_event(log_level::info, "server.stopping", "shutting down",
                  {{"signal", name}, {"in_flight", d.server.requests_in_flight()},
                   {"shutdown_grace_seconds", d.ctx.settings.shutdown_grace_seconds}});
        d.notifier.notify(fmt::format("STOPPING=1\nSTATUS=stopping: {} requests in flight, grace {} s",
                                      d.server.requests_in_flight(), d.ctx.settings.shutdown_grace_seconds));
        d.ctx.stopping = true;
        net::co_spawn(d.io, drain_and_stop(d), fail_loudly{"shutdown"});
        watch_stop(signals, d);
    });
}

// Refuses a data directory whose database (when it holds the database) or spool this user cannot write: the
// daemon would only answer 503s.
void require_writable(const fs::path& data_dir, bool holds_database)
{
    if (auto problem = holds_database ? database_problem(data_dir.string(), database_use::create) : std::nullopt)
        throw std::runtime_error(*problem);
    auto spool = data_dir / "spool";
    std::error_code ec;
    fs::create_directories(spool, ec);
    if (ec || ::faccessat(AT_FDCWD, spool.c_str(), W_OK | X_OK, AT_EACCESS) != 0)
        throw std::runtime_error(fmt::format("spool directory {} cannot be created or written by this user (uid {})",
                                             spool.string(), ::geteuid()));
}

// Opens the store, recovers, listens and runs the event loop until a stop signal; returns once all is closed.
void serve_until_stopped(const server_settings& settings, const std::vector<std::string>& args,
                         systemd_notifier& notifier, std::chrono::steady_clock::time_point started)
{
    raise_fd_limit(settings.max_connections);
    fs::path data_dir(settings.data_dir);
    // Before recovery: a second daemon on the same directory would run the same jobs.
    data_dir_lock lock(settings.data_dir);
    require_writable(data_dir, settings.database.empty());
    auto db = open_store(settings.data_dir, settings.database);
    // Before everything that uses it: bulk uploads wait here for their jobs, in the data dir or the database.
    auto spool = db->open_spool((data_dir / "spool").string());
    store_health health;
    writer writes(*db);
    writes.report_health(health);
    writes.on_batch([](std::size_t items, double seconds) {
        auto& m = daemon_metrics();
        m.observe("profiled_writer_batch_rows", {}, static_cast<double>(items));
        m.observe("profiled_writer_commit_duration_seconds", {}, seconds);
    });
    writes.on_sync([](std::size_t, double seconds) {
        daemon_metrics().observe("profiled_writer_sync_duration_seconds", {}, seconds);
    });
    auto own_reader = db->open_reader();
    key_watch keys(*db, health);
    store_reader* reader = &keys.reader_for_io(*own_reader);
    // Declared before the io context: sessions it still holds when destroyed hand their sinks to it.
    spool_thread spooler;
    net::io_context io(1);
    // After the io context, whose timers it arms: it goes first.
    reader_pool reads(*db, io, reader_threads, std::chrono::seconds(settings.request_timeout_seconds), &health);
    // After the io context too: its threads hand pages to the sessions through the io context's executor.
    export_pool exports(settings.max_exports);
    server_context ctx{settings, *db, *reader, writes, reads, spooler, *spool};
    ctx.health = &health;
    ctx.exports = &exports;

    job_runner runner(io, ctx);
    ctx.runner = &runner;
    runner.recover();
    router routes(*reader, reads);
    routes.set_rate_limits(rate_limits_of(settings));
    routes.set_uploads_per_key(settings.max_uploads_per_key);
    add_all_routes(routes, ctx);
    http_server server(io, routes, ctx);
    std::uint16_t port = server.listen(settings.listen);
    server.start();
    runner.start();
    // Its own thread and event loop: a slow receiver never holds up requests, jobs or the writer.
    webhook_sender webhooks(*db, writes, settings, lease_owner_of(settings.data_dir));
    webhooks.start();
    ctx.ready = true;
    daemon_parts parts{io, ctx, server, runner, routes, notifier, args};

    net::signal_set stop_signals(io, SIGINT, SIGTERM);
    watch_stop(stop_signals, parts);
    net::signal_set hup(io, SIGHUP);
    watch_reload(hup, parts);
    if (auto interval = notifier.watchdog_interval())
        net::co_spawn(io, watchdog(parts, *interval), fail_loudly{"watchdog"});
    if (notifier.enabled())
        net::co_spawn(io, report_status(parts), fail_loudly{"status reporter"});

    double startup = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    log_event(log_level::info, "server.ready", "listening",
              {{"listen", settings.listen},
               {"port", port},
               {"data_dir", settings.data_dir},
               {"version", PROFILED_VERSION},
               {"revision", build_revision()},
               {"startup_seconds", startup}});
    notifier.notify("READY=1\n" + status_text(parts, 0));
    io.run();
    keys.stop();
    reads.stop();
    exports.stop();
    // Before the io context goes: a session suspended on the spool thread still owns the piece being written.
    spooler.stop();
    webhooks.stop();
    writes.stop();
}

} // namespace

int run_serve(const server_settings& settings, const std::vector<std::string>& args)
{
    set_log_format(settings.format);
    set_log_level(settings.level);
    set_log_timestamps(settings.log_timestamps);
    auto started = std::chrono::steady_clock::now();
    systemd_notifier notifier;
    auto& m = daemon_metrics();
    m.set("profiled_build_info", metric_labels({{"version", build_version()}, {"revision", build_revision()}}), 1);
    m.set("profiled_process_start_time_seconds", {}, static_cast<double>(now_ms()) / 1000.0);
    try {
        serve_until_stopped(settings, args, notifier, started);
        // Everything is closed by now: connections, the writer's last commit, the database. A late stop
        // signal (a supervisor repeating itself) must not turn this clean exit into a kill.
        std::signal(SIGTERM, SIG_IGN);
        std::signal(SIGINT, SIG_IGN);
        log_event(log_level::info, "server.stopped", "stopped cleanly",
                  {{"uptime_seconds", std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count()}});
        return 0;
    } catch (const std::exception& e) {
        log_event(log_level::error, "server.failed", e.what());
        notifier.notify(fmt::format("STATUS=failed: {}", e.what()));
        return 1;
    }
}

} // namespace profiled
