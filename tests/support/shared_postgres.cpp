// The test run's shared throwaway PostgreSQL server: ctest starts it before the first test that needs it (a
// FIXTURES_SETUP test) and stops it after the last (FIXTURES_CLEANUP); the tests find it by $PROFILED_TEST_POSTGRES
// and each takes fresh databases of its own on it. Should ctest die before the cleanup, a watchdog stops the server
// and removes its directory once ctest's process is gone.
//
// Usage: shared_postgres start DIR | stop DIR
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <unistd.h>

#include "tests/support/postgres_cluster.hpp"

namespace {

namespace fs = std::filesystem;
using namespace profiled::test;

// The file in dir that holds the watchdog's pid, for the stop.
fs::path watchdog_file(const fs::path& dir) { return dir / "watchdog.pid"; }

// Ends the watchdog of an earlier start in dir (and its sleep), so it cannot stop a later server there.
void end_watchdog(const fs::path& dir)
{
    std::ifstream in(watchdog_file(dir));
    pid_t pid = 0;
    if (in >> pid && pid > 1)
        ::kill(-pid, SIGTERM); // the watchdog leads a session and process group of its own
}

// Stops whatever an earlier run left in dir, then starts a fresh cluster there watched for the caller's death.
void start(const fs::path& dir)
{
    end_watchdog(dir);
    stop_cluster(dir);
    make_cluster_dir(dir);
    pid_t caller = ::getppid();
    std::string wait = "while [ -d /proc/" + std::to_string(caller) + " ]; do sleep 1; done";
    pid_t watchdog = start_cluster_watchdog(dir, wait);
    std::ofstream(watchdog_file(dir)) << watchdog << "\n";
    start_cluster(dir);
}

// Stops the cluster in dir and removes it.
void stop(const fs::path& dir)
{
    end_watchdog(dir);
    stop_cluster(dir);
}

} // namespace

int main(int argc, char** argv)
{
    std::string command = argc == 3 ? argv[1] : "";
    if (command != "start" && command != "stop") {
        std::cerr << "usage: shared_postgres start DIR | stop DIR\n";
        return 2;
    }
    fs::path dir = argv[2];
    try {
        if (command == "start")
            start(dir);
        else
            stop(dir);
    } catch (const std::exception& e) {
        std::cerr << "shared_postgres " << command << " " << dir.string() << ": " << e.what() << "\n";
        stop(dir);
        return 1;
    }
    std::cout << "shared_postgres " << command << " " << dir.string() << ": done\n";
    return 0;
}
