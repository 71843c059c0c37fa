#include "tests/support/test_daemon.hpp"

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <fcntl.h>

#include <boost/json/parse.hpp>

#include "tests/support/test_engine.hpp"

namespace profiled::test {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

temp_dir::temp_dir()
{
    std::string pattern = (fs::temp_directory_path() / "profiled-test-XXXXXX").string();
    if (!::mkdtemp(pattern.data()))
        throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
}

temp_dir::~temp_dir()
{
    try {
        drop_databases_under(path_);
    } catch (const std::exception&) {
        // A test's database outlives it on the throwaway server, which goes at the end of the run anyway.
    }
    std::error_code ec;
    fs::remove_all(path_, ec);
}

namespace {

// Reads a whole file (empty when missing).
std::string read_file(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// The exit code of a waited-for child: its status, or 128 + the signal that ended it.
int exit_code_of(int status)
{
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return -1;
}

// fork + exec of the profiled binary with stdout/stderr sent to files.
pid_t spawn(const std::vector<std::string>& args, const std::vector<std::string>& env, const std::string& out_path,
            const std::string& err_path)
{
    pid_t pid = ::fork();
    if (pid < 0)
        throw std::runtime_error("fork failed");
    if (pid == 0) {
        int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
        int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
        ::dup2(out, 1);
        ::dup2(err, 2);
        int devnull = ::open("/dev/null", O_RDONLY);
        ::dup2(devnull, 0);
        for (const auto& e : env)
            ::putenv(const_cast<char*>(e.c_str()));
        std::vector<char*> argv;
        std::string binary = PROFILED_BINARY;
        argv.push_back(binary.data());
        for (const auto& a : args)
            argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        ::execv(binary.c_str(), argv.data());
        ::_exit(127);
    }
    return pid;
}

} // namespace

pid_t spawn_profiled(const std::vector<std::string>& args, const std::vector<std::string>& env,
                     const std::string& out_path, const std::string& err_path)
{
    return spawn(args, env, out_path, err_path);
}

// Runs `profiled ARGS...` to completion.
command_result run_profiled(const std::vector<std::string>& args, const std::vector<std::string>& env)
{
    temp_dir io;
    std::string out_path = io.path() + "/out", err_path = io.path() + "/err";
    pid_t pid = spawn(args, with_engine_database(args, env), out_path, err_path);
    int status = 0;
    ::waitpid(pid, &status, 0);
    return {exit_code_of(status), read_file(out_path), read_file(err_path)};
}

// Creates a key with `profiled keys create`.
std::string create_key(const std::string& data_dir, const std::string& project, const std::string& kind,
                       const std::string& database)
{
    std::vector<std::string> args{"keys", "create", "--data-dir", data_dir, "--project", project, "--kind", kind};
    if (!database.empty())
        args.insert(args.end(), {"--database", database});
    auto r = run_profiled(args);
    if (r.exit_code != 0)
        throw std::runtime_error("keys create failed: " + r.err);
    std::string key = r.out;
    while (!key.empty() && (key.back() == '\n' || key.back() == '\r'))
        key.pop_back();
    return key;
}

test_daemon::test_daemon(std::vector<std::string> extra_args, daemon_options options)
    : extra_args_(std::move(extra_args)), options_(std::move(options))
{
    log_path_ = dir_.path() + "/daemon.log";
    if (options_.database.empty())
        options_.database = database_of(dir_.path());
    secret_key_ = create_key(dir_.path(), "default", "secret", options_.database);
    public_key_ = create_key(dir_.path(), "default", "public", options_.database);
    start();
}

test_daemon::~test_daemon()
{
    if (pid_ > 0)
        stop(SIGTERM);
}

// Starts the process on the same data directory and waits for server.ready.
void test_daemon::start()
{
    std::vector<std::string> args{"serve", "--listen", "127.0.0.1:0", "--data-dir", dir_.path()};
    if (options_.json_log_flag)
        args.insert(args.end(), {"--log-format", "json"});
    if (!options_.database.empty())
        args.insert(args.end(), {"--database", options_.database});
    args.insert(args.end(), extra_args_.begin(), extra_args_.end());
    std::size_t lines_before = log_lines().size();
    pid_ = spawn(args, options_.env, dir_.path() + "/daemon.out", log_path_);
    auto deadline = std::chrono::steady_clock::now() + 20s;
    while (std::chrono::steady_clock::now() < deadline) {
        auto lines = log_lines();
        for (std::size_t i = lines_before; i < lines.size(); ++i) {
            if (lines[i].contains("event") && lines[i].at("event") == "server.ready") {
                port_ = static_cast<int>(lines[i].at("port").to_number<std::int64_t>());
                return;
            }
        }
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            throw std::runtime_error("profiled exited during start-up: " + read_file(log_path_));
        }
        std::this_thread::sleep_for(10ms);
    }
    throw std::runtime_error("profiled did not become ready: " + read_file(log_path_));
}

// Sends sig and waits for the process to exit.
int test_daemon::stop(int sig)
{
    if (pid_ <= 0)
        return -1;
    ::kill(pid_, sig);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return exit_code_of(status);
}

// The daemon's log so far, one parsed JSON object per line.
std::vector<boost::json::object> test_daemon::log_lines() const
{
    std::vector<boost::json::object> out;
    std::istringstream in(read_file(log_path_));
    std::string line;
    while (std::getline(in, line)) {
        boost::system::error_code ec;
        auto v = boost::json::parse(line, ec);
        if (!ec && v.is_object())
            out.push_back(std::move(v.as_object()));
    }
    return out;
}

// The daemon's stderr so far, as written.
std::string test_daemon::log_text() const { return read_file(log_path_); }

// The first log line with this event name that appears within timeout_ms.
boost::json::object test_daemon::wait_for_event(const std::string& event, int timeout_ms) const
{
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    do {
        for (auto& line : log_lines()) {
            if (line.contains("event") && line.at("event") == event.c_str())
                return line;
        }
        std::this_thread::sleep_for(20ms);
    } while (std::chrono::steady_clock::now() < deadline);
    return {};
}

// A request with the secret key.
http_reply test_daemon::call(const std::string& method, const std::string& target, const std::string& body,
                             header_list headers) const
{
    headers.emplace_back("Authorization", "Token " + secret_key_);
    return http_call(port_, method, target, body, headers);
}

// POST /v1/identify with the secret key and the API version header.
http_reply test_daemon::identify(const std::string& body) const
{
    return call("POST", "/v1/identify", body, {{"X-API-Version", "2020-09-22"}});
}

} // namespace profiled::test
