#include "tests/support/postgres_server.hpp"

#include <fcntl.h>
#include <pwd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <vector>

#include <libpq-fe.h>

namespace profiled::test {
namespace {

constexpr const char* bin_dir = "/usr/lib/postgresql/15/bin/";

// The postgres OS user when this process is root (PostgreSQL refuses to run as root), else nobody.
const passwd* server_user()
{
    if (::geteuid() != 0)
        return nullptr;
    const passwd* pw = ::getpwnam("postgres");
    if (!pw)
        throw std::runtime_error("running as root, but there is no postgres user to run PostgreSQL as");
    return pw;
}

// Starts argv (argv[0] a path) as the server's user with stdin from in (or as it is, when -1) and stdout and stderr
// appended to log; returns its pid. Only exec-safe calls after the fork: the test process may have threads.
pid_t spawn(std::vector<std::string> argv, const std::filesystem::path& log, int in = -1)
{
    const passwd* pw = server_user();
    int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (out < 0)
        throw std::runtime_error("cannot open " + log.string());
    if (pw && ::fchown(out, pw->pw_uid, pw->pw_gid) != 0) {
        ::close(out);
        throw std::runtime_error("cannot chown " + log.string());
    }
    std::vector<char*> args;
    for (auto& a : argv)
        args.push_back(a.data());
    args.push_back(nullptr);
    pid_t pid = ::fork();
    if (pid < 0) {
        ::close(out);
        throw std::runtime_error("fork failed");
    }
    if (pid == 0) {
        if (pw && (::setgid(pw->pw_gid) != 0 || ::setuid(pw->pw_uid) != 0))
            ::_exit(126);
        if (in >= 0)
            ::dup2(in, 0);
        ::dup2(out, 1);
        ::dup2(out, 2);
        ::execv(args[0], args.data());
        ::_exit(127);
    }
    ::close(out);
    return pid;
}

// Runs a PostgreSQL program (argv[0] a name in bin_dir) as the server's user, waits, and throws on failure.
void run(std::vector<std::string> argv, const std::filesystem::path& log)
{
    argv[0] = bin_dir + argv[0];
    std::string program = argv[0];
    pid_t pid = spawn(std::move(argv), log);
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        std::ifstream in(log);
        std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        throw std::runtime_error(program + " failed: " + text);
    }
}

// Runs one statement on the server's postgres database; throws on failure.
void admin_exec(const std::string& url, const std::string& sql)
{
    std::unique_ptr<PGconn, decltype(&PQfinish)> conn(PQconnectdb(url.c_str()), &PQfinish);
    if (PQstatus(conn.get()) != CONNECTION_OK)
        throw std::runtime_error(std::string("connecting to the test server: ") + PQerrorMessage(conn.get()));
    std::unique_ptr<PGresult, decltype(&PQclear)> res(PQexec(conn.get(), sql.c_str()), &PQclear);
    if (PQresultStatus(res.get()) != PGRES_COMMAND_OK)
        throw std::runtime_error(sql + ": " + PQerrorMessage(conn.get()));
}

// Percent-encodes a socket directory for the host part of a URL.
std::string url_host(const std::string& dir)
{
    std::string out;
    for (char c : dir) {
        if (c == '/')
            out += "%2F";
        else
            out += c;
    }
    return out;
}

} // namespace

postgres_server& postgres_server::instance()
{
    // Destroyed with the process's other statics, so the server goes when the tests end.
    static postgres_server server;
    return server;
}

postgres_server::postgres_server()
{
    // Short, so that the socket's path stays under the unix limit of 107 bytes.
    std::string pattern = "/tmp/profiled-pg-XXXXXX";
    if (!::mkdtemp(pattern.data()))
        throw std::runtime_error("mkdtemp failed");
    dir_ = pattern;
    if (const passwd* pw = server_user()) {
        if (::chown(dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0)
            throw std::runtime_error("chown of the test server's directory failed");
    }
    auto data = dir_ / "data";
    auto log = dir_ / "server.log";
    try {
        start_watchdog(data, log);
        // --no-sync only spares initdb's own fsyncs of the fresh files; the server runs with fsync on.
        run({"initdb", "-D", data.string(), "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C",
             "--no-sync"},
            log);
        {
            std::ofstream conf(data / "postgresql.conf", std::ios::app);
            conf << "listen_addresses = ''\n"
                 << "unix_socket_directories = '" << dir_.string() << "'\n"
                 << "fsync = on\n"
                 << "max_connections = 100\n";
        }
        run({"pg_ctl", "-D", data.string(), "-l", log.string(), "-w", "-t", "60", "start"}, log);
    } catch (...) {
        stop();
        throw;
    }
}

postgres_server::~postgres_server() { stop(); }

void postgres_server::start_watchdog(const std::filesystem::path& data, const std::filesystem::path& log)
{
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0)
        throw std::runtime_error("pipe failed");
    // Waits for the end of the pipe (this process closing it, or dying however it dies), then stops the server
    // and removes its directory.
    static const std::string script = "cat >/dev/null; \"$0\" -D \"$1\" -m immediate -w stop >/dev/null 2>&1; "
                                      "rm -rf \"$2\"";
    try {
        watchdog_ = spawn({"/bin/sh", "-c", script, std::string(bin_dir) + "pg_ctl", data.string(), dir_.string()}, log,
                          fds[0]);
    } catch (...) {
        ::close(fds[0]);
        ::close(fds[1]);
        throw;
    }
    ::close(fds[0]);
    watchdog_pipe_ = fds[1];
}

void postgres_server::stop()
{
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
    run({"pg_ctl", "-D", (dir_ / "data").string(), "-m", "fast", "-w", "-t", "60", "stop"}, dir_ / "server.log");
}

void postgres_server::start_after_outage()
{
    auto log = dir_ / "server.log";
    run({"pg_ctl", "-D", (dir_ / "data").string(), "-l", log.string(), "-w", "-t", "60", "start"}, log);
}

std::string postgres_server::url_of(const std::string& database) const
{
    return "postgresql://postgres@" + url_host(dir_.string()) + "/" + database;
}

std::string postgres_server::fresh_database_url()
{
    static std::mutex mutex;
    std::lock_guard lock(mutex);
    std::string name = "t_" + std::to_string(next_database_++);
    admin_exec(url_of("postgres"), "CREATE DATABASE " + name);
    return url_of(name);
}

} // namespace profiled::test
