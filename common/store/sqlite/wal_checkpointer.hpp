// Copies a WAL's frames back into its database file on a thread of its own, so that neither the commits nor
// the syncs that answer them wait for a checkpoint.
#pragma once

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "common/store/sqlite/sqlite.hpp"

namespace profiled {

class wal_checkpointer {
public:
    // Opens its own connection to the database at path (in WAL mode) and starts its thread, which checkpoints
    // once frames_per_checkpoint frames are waiting to be copied.
    wal_checkpointer(const std::string& path, int frames_per_checkpoint);
    // Stops the thread after the checkpoint under way, if any.
    ~wal_checkpointer();
    wal_checkpointer(const wal_checkpointer&) = delete;
    wal_checkpointer& operator=(const wal_checkpointer&) = delete;

    // Tells the WAL's length in frames after a commit; wakes the thread when enough of them are not copied yet.
    // Under steady writes the WAL never starts over (each checkpoint ends behind the commits made meanwhile),
    // so the length alone would make every commit's checkpoint copy a few frames and fsync the database file.
    void wal_length(int frames);

    // Tells that a commit was background work (a job's chunk): the checkpoints of the next second run at the
    // background priority, giving way to requests as the chunk did. At the normal priority otherwise, so that
    // under a steady stream of requests the checkpoints keep up and the commit that restarts the WAL has little
    // left to copy.
    void beside_background_work();

private:
    // The thread's loop: a passive checkpoint each time one is due, until stopped.
    void run();
    // Whether frames_per_checkpoint frames wait to be copied (called with mutex_ held).
    bool due() const;

    sqlite_connection db_;
    int frames_per_checkpoint_;
    std::mutex mutex_;
    std::condition_variable wake_;
    int frames_ = 0;     // the WAL's length after the last commit told
    int backfilled_ = 0; // frames copied by the last checkpoint
    bool told_ = false;  // a length was told since the last checkpoint
    bool stopping_ = false;
    std::atomic<long long> background_until_{0}; // steady_clock ticks: checkpoint at background priority until then
    std::thread thread_;
};

} // namespace profiled
