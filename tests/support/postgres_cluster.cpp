#include "tests/support/postgres_cluster.hpp"

#include <fcntl.h>
#include <pwd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <memory>
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

// What a spawned program gets besides its arguments.
struct spawn_options {
    int in = -1;              // its stdin, or -1 to leave it as it is
    bool own_session = false; // setsid(), so that a Ctrl-C meant for the tests does not reach it
};

// Starts argv (argv[0] a path) as the server's user with stdout and stderr appended to log; returns its pid. Only
// exec-safe calls after the fork: the test process may have threads.
pid_t spawn(std::vector<std::string> argv, const std::filesystem::path& log, spawn_options options = {})
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
        if (options.own_session)
            ::setsid();
        if (pw && (::setgid(pw->pw_gid) != 0 || ::setuid(pw->pw_uid) != 0))
            ::_exit(126);
        if (options.in >= 0)
            ::dup2(options.in, 0);
        ::dup2(out, 1);
        ::dup2(out, 2);
        ::execv(args[0], args.data());
        ::_exit(127);
    }
    ::close(out);
    return pid;
}

// The text of a file, or "" when it cannot be read.
std::string text_of(const std::filesystem::path& file)
{
    std::ifstream in(file);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Runs a PostgreSQL program (argv[0] a name in bin_dir) as the server's user and waits; throws with the log's text
// when it fails, unless allowed to.
void run(std::vector<std::string> argv, const std::filesystem::path& log, bool may_fail = false)
{
    argv[0] = bin_dir + argv[0];
    std::string program = argv[0];
    pid_t pid = spawn(std::move(argv), log);
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (!may_fail && (!WIFEXITED(status) || WEXITSTATUS(status) != 0))
        throw std::runtime_error(program + " failed: " + text_of(log));
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

void make_cluster_dir(const std::filesystem::path& dir)
{
    std::filesystem::create_directory(dir);
    std::filesystem::permissions(dir, std::filesystem::perms::owner_all);
    if (const passwd* pw = server_user()) {
        if (::chown(dir.c_str(), pw->pw_uid, pw->pw_gid) != 0)
            throw std::runtime_error("chown of " + dir.string() + " failed");
    }
}

void start_cluster(const std::filesystem::path& dir)
{
    auto data = dir / "data";
    auto log = dir / "server.log";
    // --no-sync only spares initdb's own fsyncs of the fresh files; the server runs with fsync on.
    run({"initdb", "-D", data.string(), "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync"},
        log);
    {
        std::ofstream conf(data / "postgresql.conf", std::ios::app);
        conf << "listen_addresses = ''\n"
             << "unix_socket_directories = '" << dir.string() << "'\n"
             << "fsync = on\n"
             << "max_connections = 200\n";
    }
    run({"pg_ctl", "-D", data.string(), "-l", log.string(), "-w", "-t", "60", "start"}, log);
}

pid_t start_cluster_watchdog(const std::filesystem::path& dir, const std::string& wait_shell, int in_fd)
{
    // $0 is pg_ctl, $1 the data directory, $2 the cluster's directory.
    std::string script = wait_shell + "; \"$0\" -D \"$1\" -m immediate -w stop >/dev/null 2>&1; rm -rf \"$2\"";
    return spawn({"/bin/sh", "-c", script, std::string(bin_dir) + "pg_ctl", (dir / "data").string(), dir.string()},
                 dir / "server.log", {.in = in_fd, .own_session = true});
}

void pause_cluster(const std::filesystem::path& dir)
{
    run({"pg_ctl", "-D", (dir / "data").string(), "-m", "fast", "-w", "-t", "60", "stop"}, dir / "server.log");
}

void resume_cluster(const std::filesystem::path& dir)
{
    auto log = dir / "server.log";
    run({"pg_ctl", "-D", (dir / "data").string(), "-l", log.string(), "-w", "-t", "60", "start"}, log);
}

void stop_cluster(const std::filesystem::path& dir)
{
    if (std::filesystem::exists(dir / "data" / "postmaster.pid"))
        run({"pg_ctl", "-D", (dir / "data").string(), "-m", "immediate", "-w", "stop"}, dir / "server.log", true);
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
}

std::string cluster_url(const std::filesystem::path& dir, const std::string& database)
{
    return "postgresql://postgres@" + url_host(dir.string()) + "/" + database;
}

void run_statement(const std::string& url, const std::string& sql)
{
    std::unique_ptr<PGconn, decltype(&PQfinish)> conn(PQconnectdb(url.c_str()), &PQfinish);
    if (PQstatus(conn.get()) != CONNECTION_OK)
        throw std::runtime_error(std::string("connecting to the test server: ") + PQerrorMessage(conn.get()));
    std::unique_ptr<PGresult, decltype(&PQclear)> res(PQexec(conn.get(), sql.c_str()), &PQclear);
    if (auto status = PQresultStatus(res.get()); status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
        const char* code = PQresultErrorField(res.get(), PG_DIAG_SQLSTATE);
        throw statement_error(sql + ": " + PQerrorMessage(conn.get()), code ? code : "");
    }
}

} // namespace profiled::test
