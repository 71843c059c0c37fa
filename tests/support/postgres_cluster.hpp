// A throwaway PostgreSQL 15 cluster in a directory of its own: initdb, start listening on a unix socket in that
// directory only, stop, remove; run as the postgres OS user when the tests run as root (PostgreSQL refuses root).
#pragma once

#include <filesystem>
#include <stdexcept>
#include <string>
#include <sys/types.h>

namespace profiled::test {

// Makes dir (created if missing) a cluster's directory: mode 0700, owned by the server's OS user.
void make_cluster_dir(const std::filesystem::path& dir);

// Initialises a cluster in dir/data and starts it on a socket in dir (fsync on, log in dir/server.log); throws with
// the log's text when it cannot.
void start_cluster(const std::filesystem::path& dir);

// Starts a process in a session of its own that waits for wait_shell (a /bin/sh command), then stops dir's cluster
// at once and removes dir; stdin comes from in_fd when it is not -1. Returns its pid.
pid_t start_cluster_watchdog(const std::filesystem::path& dir, const std::string& wait_shell, int in_fd = -1);

// Stops dir's cluster as an operator's restart would (pg_ctl stop -m fast: sessions ended, what was committed stays),
// waiting until it is down; its data and socket directory stay.
void pause_cluster(const std::filesystem::path& dir);
// Starts again the cluster pause_cluster stopped, waiting until it accepts connections.
void resume_cluster(const std::filesystem::path& dir);

// Stops dir's cluster at once (pg_ctl stop -m immediate) if one runs there, and removes dir.
void stop_cluster(const std::filesystem::path& dir);

// The postgresql:// URL of database on the cluster whose socket is in dir (the database need not exist).
std::string cluster_url(const std::filesystem::path& dir, const std::string& database);

// A statement the server refused, with its SQLSTATE (42P04: the database already exists).
struct statement_error : std::runtime_error {
    statement_error(const std::string& message, std::string code)
        : std::runtime_error(message), sqlstate(std::move(code))
    {
    }
    std::string sqlstate;
};

// Runs one statement on the database at url, ignoring any rows; throws statement_error when the server refuses
// it, std::runtime_error when it cannot be reached.
void run_statement(const std::string& url, const std::string& sql);

} // namespace profiled::test
