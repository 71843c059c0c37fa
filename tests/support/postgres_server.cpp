#include "tests/support/postgres_server.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <mutex>
#include <stdexcept>

#include "tests/support/postgres_cluster.hpp"

namespace profiled::test {
namespace {

// Serialises the database counter and statements on the postgres database.
std::mutex admin_mutex;

} // namespace

postgres_server& postgres_server::instance()
{
    // Destroyed with the process's other statics, so the server goes when the tests end.
    static postgres_server server(true);
    return server;
}

postgres_server& postgres_server::private_instance()
{
    static postgres_server server(false);
    return server;
}

postgres_server::postgres_server(bool may_share)
{
    if (const char* shared = std::getenv("PROFILED_TEST_POSTGRES"); may_share && shared && *shared) {
        dir_ = shared;
        // A quick check that it runs, so a test fails with a clear message rather than the daemon's.
        run_statement(url_of("postgres"), "SELECT 1");
        return;
    }
    own_ = true;
    // Short, so that the socket's path stays under the unix limit of 107 bytes.
    std::string pattern = "/tmp/profiled-pg-XXXXXX";
    if (!::mkdtemp(pattern.data()))
        throw std::runtime_error("mkdtemp failed");
    dir_ = pattern;
    try {
        make_cluster_dir(dir_);
        int fds[2];
        if (::pipe2(fds, O_CLOEXEC) != 0)
            throw std::runtime_error("pipe failed");
        // Waits for the end of the pipe: this process closing it, or dying however it dies.
        try {
            watchdog_ = start_cluster_watchdog(dir_, "cat >/dev/null", fds[0]);
        } catch (...) {
            ::close(fds[0]);
            ::close(fds[1]);
            throw;
        }
        ::close(fds[0]);
        watchdog_pipe_ = fds[1];
        start_cluster(dir_);
    } catch (...) {
        stop();
        throw;
    }
}

postgres_server::~postgres_server() { stop(); }

void postgres_server::stop()
{
    if (!own_)
        return;
    if (watchdog_pipe_ >= 0) {
        ::close(watchdog_pipe_);
        watchdog_pipe_ = -1;
        int status = 0;
        ::waitpid(watchdog_, &status, 0);
    }
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
}

void postgres_server::stop_for_outage()
{
    if (!own_)
        throw std::logic_error("an outage of the run's shared PostgreSQL server would fail the other tests");
    pause_cluster(dir_);
}

void postgres_server::start_after_outage()
{
    if (!own_)
        throw std::logic_error("the run's shared PostgreSQL server is never stopped");
    resume_cluster(dir_);
}

std::string postgres_server::url_of(const std::string& database) const { return cluster_url(dir_, database); }

std::string postgres_server::fresh_database_url()
{
    std::lock_guard lock(admin_mutex);
    for (;;) {
        std::string name = "t_" + std::to_string(::getpid()) + "_" + std::to_string(next_database_++);
        try {
            run_statement(url_of("postgres"), "CREATE DATABASE " + name);
            return url_of(name);
        } catch (const statement_error& e) {
            // Left by an earlier test process of the same pid (pids wrap) that was killed before it dropped it.
            if (e.sqlstate != "42P04")
                throw;
        }
    }
}

void postgres_server::drop_database(const std::string& url)
{
    std::string name = url.substr(url.rfind('/') + 1);
    std::lock_guard lock(admin_mutex);
    run_statement(url_of("postgres"), "DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
}

} // namespace profiled::test
