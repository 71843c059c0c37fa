// `profiled serve` settings: flags over PROFILED_* environment over the INI file over defaults.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/ops/log.hpp"

namespace profiled {

struct server_settings {
    std::string listen = "127.0.0.1:8080";
    std::string data_dir = "/var/lib/profiled";
    std::string database; // a postgresql:// URL; empty: SQLite in data_dir
    std::string config_file;
    log_format format = log_format::logfmt;
    log_level level = log_level::info;
    bool access_log = false;
    bool log_timestamps = true; // each line starts with its time; off under journald, which stamps lines itself

    std::uint64_t max_body_bytes = 1024 * 1024;             // single (non-bulk) requests
    std::uint64_t max_upload_bytes = 50ull * 1024 * 1024;   // one bulk upload
    std::uint64_t max_job_rows = 10000;                     // rows in one bulk job
    std::uint32_t max_header_bytes = 16 * 1024;             // header block; also chunk extensions and trailers
    std::uint64_t min_upload_rate = 1024;                   // body bytes/s averaged over the window; 0 = off
    std::uint32_t upload_rate_window_seconds = 10;
    std::uint32_t max_connections = 512;                    // open connections; more are answered 503 and closed
    std::uint32_t max_uploads_per_key = 4;                  // bulk uploads being received at once per key
    std::uint32_t max_exports = 2;                          // exports running at once; more are answered 503
    std::uint32_t export_write_timeout_seconds = 60;        // an export's client taking no data this long is dropped
    double rows_per_minute = 1200;                          // per project; 0 = unlimited
    double rows_burst = 100;
    std::uint32_t max_queued_jobs = 100;                    // per project
    double rate_limit_writes = 0;  // single-write requests per second per key; 0 = off
    double rate_limit_bulk = 0;    // bulk submissions per minute per key; 0 = off
    double rate_limit_reads = 0;   // read requests per second per key; 0 = off
    std::uint32_t read_timeout_seconds = 30;
    std::uint32_t idle_timeout_seconds = 60;
    std::uint32_t request_timeout_seconds = 10; // the store must answer a request's read or start its write within
    std::uint32_t shutdown_grace_seconds = 10;
    std::uint32_t job_lease_seconds = 30; // a claimed job is this daemon's so long without a renewal
    double webhook_retry_base_seconds = 10;   // first retry delay's bound; doubles per attempt up to an hour
    std::uint32_t webhook_max_attempts = 15;  // attempts at a delivery before it is marked failed
    double webhook_timeout_seconds = 10;      // one attempt: connect, TLS handshake, request and answer
    std::string webhook_ca_file;              // PEM CA certificates trusted besides the system's
    bool webhook_allow_private = false;       // deliver to loopback, private and link-local addresses too
};

// What parsing the command line decided.
struct settings_outcome {
    server_settings settings;
    bool show_help = false;
    std::string help_text;
};

// Reads the settings from args (without the program and command names), the environment and the config file.
// Throws std::runtime_error with a message fit for the operator when anything is invalid.
settings_outcome load_server_settings(const std::vector<std::string>& args);

// The data directory for the offline commands (keys, jobs): PROFILED_DATA_DIR, else the service default.
std::string default_data_dir();
// The database URL for the offline commands (keys, jobs): PROFILED_DATABASE, else none (SQLite in the data dir).
std::string default_database_url();
// Throws std::runtime_error for a database URL profiled cannot open (anything but postgresql:// or none); the
// message never holds the URL's password.
void check_database_url(const std::string& url);

// What a command does with the database in its data directory.
enum class database_use {
    read,   // it must exist and be readable (keys list, jobs list)
    write,  // it must exist and be writable (keys revoke)
    create, // it is created when missing, so its directory must be writable (keys create, serve)
};

// Why data_dir/profiled.db cannot be used so by this process, in one line for the operator (the data directory is
// not a directory, the database is missing or not a file, or this user may not read or write it); nullopt when it
// can. Creates nothing.
std::optional<std::string> database_problem(const std::string& data_dir, database_use use);

} // namespace profiled
