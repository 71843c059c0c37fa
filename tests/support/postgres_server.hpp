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

    // Creates a fresh, empty database (t_PID_1, t_PID_2, ...: unique on a shared server) and returns its URL.
    std::string fresh_database_url();
    // Drops the database a fresh_database_url() named, ending any session still on it.
    void drop_database(const std::string& url);
    // The postgresql:// URL of the database name on this server (which need not exist).
    std::string url_of(const std::string& database) const;

    postgres_server(const postgres_server&) = delete;
    postgres_server& operator=(const postgres_server&) = delete;
    // Stops a server of the process's own at once (pg_ctl stop -m immediate, by the watchdog) and removes its
    // directory; leaves a shared one running.
    ~postgres_server();

private:
    postgres_server();
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
