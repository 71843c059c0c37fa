#include "common/store/sqlite/wal_sync.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

#include "common/store/store_error.hpp"

namespace profiled {

wal_sync::wal_sync(const std::string& db_path) : path_(db_path + "-wal")
{
    fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0)
        throw store_error(store_failure::unwritable, "cannot open " + path_ + ": " + std::strerror(errno));
}

wal_sync::~wal_sync() { ::close(fd_); }

void wal_sync::sync()
{
    while (::fdatasync(fd_) != 0) {
        if (errno == EINTR)
            continue;
        throw store_error(errno == ENOSPC || errno == EDQUOT ? store_failure::storage_full : store_failure::unwritable,
                          "fdatasync " + path_ + ": " + std::strerror(errno));
    }
}

} // namespace profiled
