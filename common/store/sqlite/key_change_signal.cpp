#include "common/store/sqlite/key_change_signal.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace profiled {

key_change_signal::key_change_signal(const std::string& db_path)
{
    std::string path = db_path + "-keys";
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    writable_ = fd >= 0;
    if (fd < 0)
        fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    struct stat st {};
    if (::fstat(fd, &st) == 0 && st.st_size < static_cast<off_t>(sizeof(std::uint64_t)) &&
        (!writable_ || ::ftruncate(fd, sizeof(std::uint64_t)) != 0)) {
        ::close(fd);
        return;
    }
    void* mapped = ::mmap(nullptr, sizeof(std::uint64_t), writable_ ? PROT_READ | PROT_WRITE : PROT_READ, MAP_SHARED,
                          fd, 0);
    ::close(fd);
    if (mapped != MAP_FAILED)
        counter_ = static_cast<std::uint64_t*>(mapped);
}

key_change_signal::~key_change_signal()
{
    if (counter_)
        ::munmap(counter_, sizeof(std::uint64_t));
}

std::uint64_t key_change_signal::value() const noexcept
{
    return counter_ ? __atomic_load_n(counter_, __ATOMIC_ACQUIRE) : 0;
}

void key_change_signal::bump() noexcept
{
    if (counter_ && writable_)
        __atomic_fetch_add(counter_, 1, __ATOMIC_RELEASE);
}

} // namespace profiled
