#include "tests/support/timed_command.hpp"

#include <csignal>
#include <fcntl.h>
#include <fstream>
#include <grp.h>
#include <pwd.h>
#include <sstream>
#include <stdexcept>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include "tests/support/test_engine.hpp"

namespace profiled::test {

using namespace std::chrono_literals;

namespace {

// Reads a whole file (empty when missing).
std::string slurp(const std::string& path)
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

// Waits for pid until the deadline; true (with *status set) when it exited.
bool wait_until(pid_t pid, std::chrono::steady_clock::time_point deadline, int* status)
{
    for (;;) {
        if (::waitpid(pid, status, WNOHANG) == pid)
            return true;
        if (std::chrono::steady_clock::now() >= deadline)
            return false;
        std::this_thread::sleep_for(10ms);
    }
}

// The ids a child takes on to run as another user.
struct user_ids {
    bool change = false;
    uid_t uid = 0;
    gid_t gid = 0;
};

// The ids of user, looked up before fork (getpwnam is not safe between fork and exec).
user_ids ids_of(const std::string& user)
{
    if (user.empty())
        return {};
    const passwd* pw = ::getpwnam(user.c_str());
    if (!pw)
        throw std::runtime_error("no user " + user);
    return {true, pw->pw_uid, pw->pw_gid};
}

} // namespace

timed_result run_profiled_within(const std::vector<std::string>& args, const run_limits& limits)
{
    temp_dir io;
    std::string out_path = io.path() + "/out", err_path = io.path() + "/err";
    user_ids ids = ids_of(limits.user);
    // Before the fork: it may create the data directory's database.
    std::vector<std::string> env = with_engine_database(args, limits.env);
    std::string binary = PROFILED_BINARY;
    std::vector<char*> argv{binary.data()};
    for (const auto& a : args)
        argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);

    pid_t pid = ::fork();
    if (pid < 0)
        throw std::runtime_error("fork failed");
    if (pid == 0) {
        // The output files are opened while still root, so the command need not be able to write them.
        int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int devnull = ::open("/dev/null", O_RDONLY);
        ::dup2(out, 1);
        ::dup2(err, 2);
        ::dup2(devnull, 0);
        for (const auto& e : env)
            ::putenv(const_cast<char*>(e.c_str()));
        if (ids.change && (::setgroups(0, nullptr) != 0 || ::setgid(ids.gid) != 0 || ::setuid(ids.uid) != 0)) {
            static const char message[] = "timed_command: cannot change to the requested user\n";
            (void)!::write(2, message, sizeof message - 1);
            ::_exit(126);
        }
        if (::chdir("/") != 0)
            ::_exit(126);
        ::execv(binary.c_str(), argv.data());
        ::_exit(127);
    }
    timed_result result;
    int status = 0;
    if (!wait_until(pid, std::chrono::steady_clock::now() + limits.timeout, &status)) {
        result.timed_out = true;
        ::kill(pid, SIGTERM);
        if (!wait_until(pid, std::chrono::steady_clock::now() + 5s, &status)) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, &status, 0);
        }
    }
    result.exit_code = exit_code_of(status);
    result.out = slurp(out_path);
    result.err = slurp(err_path);
    return result;
}

std::string cannot_run_as(const std::string& user)
{
    if (::geteuid() != 0)
        return "the tests do not run as root, so they cannot run profiled as " + user;
    if (!::getpwnam(user.c_str()))
        return "there is no user " + user;
    auto r = run_profiled_within({"version"}, {.timeout = 10s, .user = user});
    if (r.exit_code != 0)
        return "`profiled version` as " + user + " exited " + std::to_string(r.exit_code) + ": " + r.err;
    return "";
}

} // namespace profiled::test
