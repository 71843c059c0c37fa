#include "common/store/sqlite/wal_checkpointer.hpp"

#include <chrono>
#include <optional>

#include <sqlite3.h>

#include "common/ops/log.hpp"
#include "common/ops/thread_roles.hpp"

namespace profiled {

wal_checkpointer::wal_checkpointer(const std::string& path, int frames_per_checkpoint)
    : db_(path, false), frames_per_checkpoint_(frames_per_checkpoint)
{
    thread_ = std::thread([this] { run(); });
}

wal_checkpointer::~wal_checkpointer()
{
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
        wake_.notify_one();
    }
    thread_.join();
}

void wal_checkpointer::wal_length(int frames)
{
    std::lock_guard lock(mutex_);
    frames_ = frames;
    if (frames_ < backfilled_)
        backfilled_ = 0; // the WAL started over
    told_ = true;
    if (due())
        wake_.notify_one();
}

void wal_checkpointer::beside_background_work()
{
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    background_until_.store(until.time_since_epoch().count());
}

bool wal_checkpointer::due() const { return told_ && frames_ - backfilled_ >= frames_per_checkpoint_; }

void wal_checkpointer::run()
{
    name_this_thread("profiled-ckpt");
    std::unique_lock lock(mutex_);
    for (;;) {
        wake_.wait(lock, [this] { return stopping_ || due(); });
        if (stopping_)
            return;
        told_ = false; // a checkpoint that copies nothing is not tried again until the next commit
        lock.unlock();
        int log = 0, copied = 0;
        std::optional<background_while> yielding;
        if (std::chrono::steady_clock::now().time_since_epoch().count() < background_until_.load())
            yielding.emplace();
        int rc = sqlite3_wal_checkpoint_v2(db_.handle(), "main", SQLITE_CHECKPOINT_PASSIVE, &log, &copied);
        if (rc != SQLITE_OK && rc != SQLITE_BUSY)
            log_event(log_level::warn, "writer.checkpoint_failed", sqlite3_errstr(rc));
        lock.lock();
        if (rc == SQLITE_OK && copied <= frames_)
            backfilled_ = copied;
    }
}

} // namespace profiled
