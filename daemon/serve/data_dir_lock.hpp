// One daemon per data directory: an exclusive flock on DIR/profiled.lock, held for the process's life.
#pragma once

#include <string>

namespace profiled {

class data_dir_lock {
public:
    // Creates dir when missing and locks dir/profiled.lock with this process's PID in it; throws a one-line
    // std::runtime_error naming dir (and the PID holding it) when dir is not a directory, not writable or taken.
    explicit data_dir_lock(const std::string& dir);
    // Closes the lock file, which releases the lock; the file stays, a later daemon reuses it.
    ~data_dir_lock();
    data_dir_lock(const data_dir_lock&) = delete;
    data_dir_lock& operator=(const data_dir_lock&) = delete;

private:
    int fd_ = -1;
};

} // namespace profiled
