// A throwaway PostgreSQL 15 server for tests: one per test process, started on first use in a temporary
// directory, listening only on a unix socket there, and stopped (its directory removed) when the process exits,
// or dies: a watchdog process stops the server when the test process's end of a pipe closes, even on a kill -9.
#pragma once

#include <filesystem>
#include <string>

namespace profiled::test {

// The test process's PostgreSQL server.
class postgres_server {
public:
    // The process's server, initialised and started on the first call (as the postgres OS user when running as
    // root); throws when PostgreSQL cannot be started.
    static postgres_server& instance();

    // Creates a fresh, empty database (t_1, t_2, ...) and returns its postgresql:// URL.
    std::string fresh_database_url();
    // The postgresql:// URL of the database name on this server (which need not exist).
    std::string url_of(const std::string& database) const;

    // Stops the server as an operator's restart would (pg_ctl stop -m fast: sessions are ended, what was committed
    // stays), waiting until it is down; start_after_outage() brings it back on the same data and socket.
    void stop_for_outage();
    // Starts the server stopped by stop_for_outage, waiting until it accepts connections.
    void start_after_outage();

    postgres_server(const postgres_server&) = delete;
    postgres_server& operator=(const postgres_server&) = delete;
    // Stops the server at once (pg_ctl stop -m immediate, by the watchdog) and removes its directory.
    ~postgres_server();

private:
    postgres_server();
    // Starts the watchdog that stops the server in data once watchdog_pipe_ closes.
    void start_watchdog(const std::filesystem::path& data, const std::filesystem::path& log);
    // Has the watchdog stop the server, waits for it, and removes the directory.
    void stop();

    std::filesystem::path dir_; // holds data/, the socket and the server log
    int watchdog_ = -1;         // the watchdog's pid
    int watchdog_pipe_ = -1;    // closing it (or this process dying) makes the watchdog stop the server
    int next_database_ = 1;
};

// A fresh database on the process's throwaway server.
inline std::string fresh_postgres_url() { return postgres_server::instance().fresh_database_url(); }

} // namespace profiled::test
