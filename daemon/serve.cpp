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

#include "common/log.hpp"
#include "common/store.hpp"
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

// Stops accepting, lets in-flight requests finish within the grace period, then ends the event loop.
net::awaitable<void> drain_and_stop(net::io_context& io, http_server& server, job_runner& runner,
                                    server_context& ctx)
{
    runner.stop();
    server.stop_accepting();
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(ctx.settings.shutdown_grace_seconds);
    net::steady_timer tick(io);
    while (server.requests_in_flight() > 0 && std::chrono::steady_clock::now() < deadline) {
        tick.expires_after(10ms);
        co_await tick.async_wait(net::as_tuple(net::use_awaitable));
    }
    if (server.requests_in_flight() > 0)
        log_event(log_level::warn, "server.grace_expired", "closing connections with requests still in flight",
                  {{"in_flight", server.requests_in_flight()}});
    server.close_all();
    io.stop();
}

} // namespace

// Runs the daemon in the foreground.
int run_serve(const server_settings& settings)
{
    set_log_format(settings.format);
    set_log_level(settings.level);
    auto started = std::chrono::steady_clock::now();
    try {
        fs::path data_dir(settings.data_dir);
        fs::create_directories(data_dir / "spool");
        auto db = open_sqlite_store((data_dir / "profiled.db").string());
        writer writes(*db);
        auto reader = db->open_reader();
        server_context ctx{settings, *db, *reader, writes};

        net::io_context io(1);
        job_runner runner(io, ctx);
        ctx.runner = &runner;
        runner.recover();
        router routes(*reader);
        add_all_routes(routes, ctx);
        http_server server(io, routes, ctx);
        std::uint16_t port = server.listen(settings.listen);
        server.start();
        runner.start();
        ctx.ready = true;

        net::signal_set signals(io, SIGINT, SIGTERM);
        signals.async_wait([&](const boost::system::error_code& ec, int signo) {
            if (ec)
                return;
            log_event(log_level::info, "server.stopping", "shutting down",
                      {{"signal", signo == SIGTERM ? "SIGTERM" : "SIGINT"}});
            ctx.stopping = true;
            net::co_spawn(io, drain_and_stop(io, server, runner, ctx), net::detached);
        });

        double startup = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        log_event(log_level::info, "server.ready", "listening",
                  {{"listen", settings.listen}, {"port", port}, {"data_dir", settings.data_dir},
                   {"version", PROFILED_VERSION}, {"startup_seconds", startup}});
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
