// The real profiled binary, started on port 0 with a temporary data directory, for integration tests.
#pragma once

#include <string>
#include <sys/types.h>
#include <vector>

#include <boost/json/object.hpp>

#include "tests/support/http_client.hpp"

namespace profiled::test {

// A temporary directory removed (with its contents) when the object goes away.
class temp_dir {
public:
    temp_dir();
    ~temp_dir();
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

// Runs `profiled ARGS...`; returns its exit code and what it printed on stdout and stderr. On PostgreSQL
// (test_engine.hpp) a command given a data directory runs on that directory's database unless told another.
struct command_result {
    int exit_code = -1;
    std::string out;
    std::string err;
};
command_result run_profiled(const std::vector<std::string>& args, const std::vector<std::string>& env = {});
// Starts the profiled binary with args (env: NAME=value pairs added), stdin from /dev/null and stdout/stderr
// appended to the two files, without waiting; the caller waits for (and may signal) the process.
pid_t spawn_profiled(const std::vector<std::string>& args, const std::vector<std::string>& env,
                     const std::string& out_path, const std::string& err_path);

// Creates a key with `profiled keys create` (in the database the URL names, when given) and returns it.
std::string create_key(const std::string& data_dir, const std::string& project, const std::string& kind,
                       const std::string& database = {});

// What a test_daemon gets besides its extra command-line arguments.
struct daemon_options {
    std::vector<std::string> env; // NAME=value pairs added to the daemon's environment (e.g. NOTIFY_SOCKET)
    bool json_log_flag = true;    // pass --log-format json; false leaves the format to a config file
    std::string database;         // --database URL for the daemon and its keys; empty: the engine's own
                                  // (test_engine.hpp), SQLite in its data dir or a fresh PostgreSQL database
};

class test_daemon {
public:
    // Starts the daemon on 127.0.0.1:0 in its own temp dir with a secret and a public key for project "default".
    explicit test_daemon(std::vector<std::string> extra_args = {}, daemon_options options = {});
    // Stops it with SIGTERM if still running.
    ~test_daemon();
    test_daemon(const test_daemon&) = delete;
    test_daemon& operator=(const test_daemon&) = delete;

    int port() const { return port_; }
    const std::string& data_dir() const { return dir_.path(); }
    // The database URL it runs on, "" for SQLite in its data directory.
    const std::string& database() const { return options_.database; }
    const std::string& secret_key() const { return secret_key_; }
    const std::string& public_key() const { return public_key_; }
    pid_t pid() const { return pid_; }

    // Starts the process (again) on the same data directory and waits for server.ready.
    void start();
    // Sends sig and waits for the process to exit; returns its exit code (or 128 + signal).
    int stop(int sig = 15);
    // The daemon's log so far, one parsed JSON object per line.
    std::vector<boost::json::object> log_lines() const;
    // The daemon's stderr so far, as written (any log format).
    std::string log_text() const;
    // The first log line with this event name that appears within timeout_ms, or an empty object.
    boost::json::object wait_for_event(const std::string& event, int timeout_ms = 10000) const;

    // A request with the secret key in "Authorization: Token ...".
    http_reply call(const std::string& method, const std::string& target, const std::string& body = "",
                    header_list headers = {}) const;
    // POST /v1/identify with the secret key and the API version header.
    http_reply identify(const std::string& body) const;

private:
    temp_dir dir_;
    std::vector<std::string> extra_args_;
    daemon_options options_;
    std::string secret_key_;
    std::string public_key_;
    std::string log_path_;
    pid_t pid_ = -1;
    int port_ = 0;
};

} // namespace profiled::test
