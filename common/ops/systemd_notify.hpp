// The systemd notify protocol (READY=1, STATUS=, WATCHDOG=1, STOPPING=1) without libsystemd.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace profiled {

class systemd_notifier {
public:
    // Reads NOTIFY_SOCKET; without it every call is a no-op.
    systemd_notifier();
    ~systemd_notifier();
    systemd_notifier(const systemd_notifier&) = delete;
    systemd_notifier& operator=(const systemd_notifier&) = delete;

    // Sends one datagram of newline-separated assignments; false when not under systemd or on error.
    bool notify(std::string_view state);
    bool enabled() const { return fd_ >= 0; }
    // How often to send WATCHDOG=1: half of WATCHDOG_USEC, when the watchdog is on for this process.
    std::optional<std::chrono::microseconds> watchdog_interval() const;

private:
    int fd_ = -1;
    std::string address_;
};

} // namespace profiled
