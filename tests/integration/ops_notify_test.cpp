// The systemd notify protocol as systemd sees it: a datagram socket named by NOTIFY_SOCKET receives
// READY=1, STATUS=, WATCHDOG=1 (at half of WATCHDOG_USEC) and STOPPING=1 on SIGTERM.
#include <catch2/catch.hpp>

#include <chrono>
#include <csignal>
#include <string>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <vector>

#include "tests/support/test_daemon.hpp"

using namespace profiled::test;

namespace {

// A bound unix datagram socket standing in for systemd's notify socket.
class notify_listener {
public:
    explicit notify_listener(std::string path) : path_(std::move(path))
    {
        fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        REQUIRE(fd_ >= 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        REQUIRE(path_.size() < sizeof(addr.sun_path));
        path_.copy(addr.sun_path, path_.size());
        REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
    }
    ~notify_listener()
    {
        ::close(fd_);
        ::unlink(path_.c_str());
    }
    notify_listener(const notify_listener&) = delete;
    notify_listener& operator=(const notify_listener&) = delete;

    // The next datagram, or "" when none arrives within timeout_ms.
    std::string receive(int timeout_ms)
    {
        timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        char buffer[4096];
        ssize_t n = ::recv(fd_, buffer, sizeof(buffer), 0);
        return n > 0 ? std::string(buffer, static_cast<std::size_t>(n)) : std::string();
    }

    // Datagrams until one contains want (all of them returned), or nothing more arrives within timeout_ms.
    std::vector<std::string> receive_until(const std::string& want, int timeout_ms)
    {
        std::vector<std::string> got;
        auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
        while (std::chrono::steady_clock::now() < deadline) {
            std::string message = receive(200);
            if (message.empty())
                continue;
            got.push_back(message);
            if (message.find(want) != std::string::npos)
                break;
        }
        return got;
    }

    const std::string& path() const { return path_; }

private:
    std::string path_;
    int fd_ = -1;
};

// How many messages contain text.
std::size_t count_containing(const std::vector<std::string>& messages, const std::string& text)
{
    std::size_t n = 0;
    for (const auto& m : messages)
        n += m.find(text) != std::string::npos ? 1 : 0;
    return n;
}

} // namespace

TEST_CASE("the daemon speaks the systemd notify protocol on NOTIFY_SOCKET", "[ops][systemd]")
{
    temp_dir dir;
    notify_listener systemd(dir.path() + "/notify.sock");
    // WATCHDOG_USEC of 0.2 s: WATCHDOG=1 every 0.1 s.
    test_daemon d({}, daemon_options{{"NOTIFY_SOCKET=" + systemd.path(), "WATCHDOG_USEC=200000"}});

    auto startup = systemd.receive_until("READY=1", 5000);
    REQUIRE(count_containing(startup, "READY=1") == 1);
    // READY=1 carries the first STATUS= with the queue depth and row rate.
    const std::string& ready = startup.back();
    CHECK(ready.find("STATUS=jobs queued 0, running 0; 0 rows/s") != std::string::npos);

    // The watchdog keeps pinging from the event loop, and the daemon keeps serving meanwhile.
    std::vector<std::string> later;
    for (int i = 0; i < 4; ++i) {
        auto batch = systemd.receive_until("WATCHDOG=1", 3000);
        later.insert(later.end(), batch.begin(), batch.end());
    }
    CHECK(count_containing(later, "WATCHDOG=1") == 4);
    CHECK(http_call(d.port(), "GET", "/healthz").status == 200);

    REQUIRE(d.stop(SIGTERM) == 0);
    auto shutdown = systemd.receive_until("STOPPING=1", 3000);
    REQUIRE(count_containing(shutdown, "STOPPING=1") == 1);
}

TEST_CASE("STATUS= is refreshed with the queue depth while the daemon runs", "[ops][systemd]")
{
    temp_dir dir;
    notify_listener systemd(dir.path() + "/notify.sock");
    test_daemon d({}, daemon_options{{"NOTIFY_SOCKET=" + systemd.path()}});
    REQUIRE(count_containing(systemd.receive_until("READY=1", 5000), "READY=1") == 1);
    // The refresh comes every 5 s; no watchdog was asked for, so nothing else is sent in between.
    auto refreshed = systemd.receive_until("STATUS=", 8000);
    REQUIRE(refreshed.size() == 1);
    CHECK(refreshed[0].rfind("STATUS=jobs queued 0, running 0;", 0) == 0);
    CHECK(refreshed[0].find("WATCHDOG=1") == std::string::npos);
}

TEST_CASE("without NOTIFY_SOCKET the daemon runs and stops as usual", "[ops][systemd]")
{
    test_daemon d;
    CHECK(http_call(d.port(), "GET", "/readyz").status == 200);
    CHECK(d.stop(SIGTERM) == 0);
}
