// `profiled ARGS...` with a deadline and, when the tests run as root, as another user: for a command that must
// end (a serve that ought to refuse to start) and for file permissions, which root would ignore.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "tests/support/test_daemon.hpp"

namespace profiled::test {

// How run_profiled_within runs the command.
struct run_limits {
    std::chrono::milliseconds timeout{15000};
    std::string user;             // run as this user with its primary group and no others; "" = as the tests run
    std::vector<std::string> env; // NAME=value pairs added to the command's environment
};

// What the command did; timed_out when it was still running at the deadline and had to be stopped.
struct timed_result : command_result {
    bool timed_out = false;
};

// Runs `profiled ARGS...` within the limits: SIGTERM at the deadline, SIGKILL 5 s later.
timed_result run_profiled_within(const std::vector<std::string>& args, const run_limits& limits = {});

// Why `profiled` cannot be run as user here (the tests are not root, there is no such user, the binary is out of
// its reach), or "" when it can.
std::string cannot_run_as(const std::string& user);

} // namespace profiled::test
