// The throwaway PostgreSQL 15 server a test process uses: the test run's shared server when $PROFILED_TEST_POSTGRES
// names its directory (ctest starts one per run, tests/support/shared_postgres.cpp), else a server of the process's
// own, started on first use in a temporary directory, listening only on a unix socket there, and stopped (its
// directory removed) when the process exits or dies: a watchdog process stops the server when the test process's
// end of a pipe closes, even on a kill -9.
#pragma once

#include <filesystem>
#include <string>

namespace profiled::test {

// The test process's PostgreSQL server.
class postgres_server {
public:
    // The process's server: the shared one, or its own, initialised and started on the first call (as the postgres
    // OS user when running as root); throws when PostgreSQL cannot be started or reached.
    static postgres_server& instance();
    // A server of the process's own even when the run shares one: for tests that stop and start it (an outage
    // must not take the other tests' server down).
    static postgres_server& private_instance();

    // Creates a fresh, empty database (t_PID_1, t_PID_2, ...: unique on a shared server) and returns its URL.
    std::string fresh_database_url();
    // Drops the database a fresh_database_url() named, ending any session still on it.
    void drop_database(const std::string& url);
    // The postgresql:// URL of the database name on this server (which need not exist).
    std::string url_of(const std::string& database) const;

    // Stops the server as an operator's restart would (pg_ctl stop -m fast: sessions are ended, what was committed
    // stays), waiting until it is down; start_after_outage() brings it back on the same data and socket. Only on a
    // private_instance(): throws std::logic_error on the shared server.
    void stop_for_outage();
    // Starts the server stopped by stop_for_outage, waiting until it accepts connections.
    void start_after_outage();

    postgres_server(const postgres_server&) = delete;
    postgres_server& operator=(const postgres_server&) = delete;
    // Stops a server of the process's own at once (pg_ctl stop -m immediate, by the watchdog) and removes its
    // directory; leaves a shared one running.
    ~postgres_server();

private:
    // The shared server when the run has one and may_share, else one of the process's own.
    explicit postgres_server(bool may_share);
    // Has the watchdog stop the process's own server, waits for it, and removes the directory.
    void stop();

    std::filesystem::path dir_; // holds data/, the socket and the server log
    bool own_ = false;          // started by this process (not the run's shared server)
    int watchdog_ = -1;         // the watchdog's pid
    int watchdog_pipe_ = -1;    // closing it (or this process dying) makes the watchdog stop the server
    int next_database_ = 1;
};

// A fresh database on the process's throwaway server.
inline std::string fresh_postgres_url() { return postgres_server::instance().fresh_database_url(); }

} // namespace profiled::test
