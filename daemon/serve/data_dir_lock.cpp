#include "daemon/serve/data_dir_lock.hpp"

#include <cctype>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <stdexcept>
#include <sys/file.h>
#include <unistd.h>

#include <fmt/format.h>

namespace profiled {

namespace fs = std::filesystem;

namespace {

// The PID the lock's holder wrote into the file, or "unknown" in the moment between its lock and its write.
std::string holder_pid(int fd)
{
    char buf[32] = {};
    ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
    std::string pid;
    for (ssize_t i = 0; i < n && std::isdigit(static_cast<unsigned char>(buf[i])); ++i)
        pid += buf[i];
    return pid.empty() ? "unknown" : pid;
}

// Creates dir when missing; throws when it is something other than a directory or cannot be made or read.
void ensure_directory(const std::string& dir)
{
    std::error_code ec;
    auto status = fs::status(dir, ec);
    if (status.type() == fs::file_type::not_found) {
        fs::create_directories(dir, ec);
        if (ec)
            throw std::runtime_error(fmt::format("cannot create data directory {}: {}", dir, ec.message()));
        return;
    }
    if (ec)
        throw std::runtime_error(fmt::format("cannot read data directory {}: {}", dir, ec.message()));
    if (!fs::is_directory(status))
        throw std::runtime_error(fmt::format("data directory {} is not a directory", dir));
}

} // namespace

data_dir_lock::data_dir_lock(const std::string& dir)
{
    ensure_directory(dir);
    std::string path = (fs::path(dir) / "profiled.lock").string();
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0)
        throw std::runtime_error(fmt::format("cannot open {}: {} (data directory {} and its lock file must be "
                                             "writable by this user, uid {})",
                                             path, std::strerror(errno), dir, ::geteuid()));
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
        std::string message =
            errno == EWOULDBLOCK
                ? fmt::format("data directory {} is in use by another profiled (pid {}); only one daemon may use a "
                              "data directory",
                              dir, holder_pid(fd_))
                : fmt::format("cannot lock {}: {}", path, std::strerror(errno));
        ::close(fd_);
        throw std::runtime_error(message);
    }
    std::string pid = std::to_string(::getpid()) + "\n";
    if (::ftruncate(fd_, 0) != 0 || ::pwrite(fd_, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
        std::string message = fmt::format("cannot write {}: {}", path, std::strerror(errno));
        ::close(fd_);
        throw std::runtime_error(message);
    }
}

data_dir_lock::~data_dir_lock() { ::close(fd_); }

} // namespace profiled
