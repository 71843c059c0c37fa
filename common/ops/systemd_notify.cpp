#include "common/ops/systemd_notify.hpp"

#include <cstdlib>
#include <cstring>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace profiled {

systemd_notifier::systemd_notifier()
{
    const char* path = std::getenv("NOTIFY_SOCKET");
    if (!path || !*path)
        return;
    address_ = path;
    // Only absolute paths and abstract sockets ('@') are valid notify addresses.
    if ((address_[0] != '/' && address_[0] != '@') || address_.size() >= sizeof(sockaddr_un::sun_path))
        return;
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
}

systemd_notifier::~systemd_notifier()
{
    if (fd_ >= 0)
        ::close(fd_);
}

bool systemd_notifier::notify(std::string_view state)
{
    if (fd_ < 0)
        return false;
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, address_.data(), address_.size());
    if (addr.sun_path[0] == '@')
        addr.sun_path[0] = '\0';
    socklen_t len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + address_.size());
    ssize_t sent = ::sendto(fd_, state.data(), state.size(), MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(&addr), len);
    return sent == static_cast<ssize_t>(state.size());
}

std::optional<std::chrono::microseconds> systemd_notifier::watchdog_interval() const
{
    const char* usec = std::getenv("WATCHDOG_USEC");
    if (!usec || !*usec)
        return std::nullopt;
    if (const char* pid = std::getenv("WATCHDOG_PID"); pid && *pid && std::strtol(pid, nullptr, 10) != ::getpid())
        return std::nullopt;
    long long value = std::strtoll(usec, nullptr, 10);
    if (value <= 0)
        return std::nullopt;
    return std::chrono::microseconds(value / 2);
}

} // namespace profiled
