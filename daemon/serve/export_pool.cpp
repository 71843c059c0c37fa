#include "daemon/serve/export_pool.hpp"

#include <algorithm>

#include "common/ops/log.hpp"
#include "daemon/serve/export_channel.hpp"

namespace profiled {

export_pool::export_pool(std::size_t slots) : slots_(slots)
{
    for (std::size_t i = 0; i < slots_; ++i)
        threads_.emplace_back([this] { run_thread(); });
}

export_pool::~export_pool() { stop(); }

std::shared_ptr<void> export_pool::take_slot()
{
    {
        std::lock_guard lock(mutex_);
        if (stopping_)
            return nullptr;
    }
    std::lock_guard lock(slots_taken_->mutex);
    if (slots_taken_->taken >= slots_)
        return nullptr;
    ++slots_taken_->taken;
    // Points at the count (never null, so a taken slot tests true); the deleter only gives the slot back.
    return {slots_taken_.get(), [count = slots_taken_](void*) {
                std::lock_guard lock(count->mutex);
                --count->taken;
            }};
}

void export_pool::run(std::shared_ptr<export_channel> channel, std::function<void()> export_job)
{
    std::lock_guard lock(mutex_);
    if (stopping_)
        channel->cancel();
    running_.push_back(channel);
    pending_.push_back({std::move(channel), std::move(export_job)});
    wake_.notify_one();
}

void export_pool::stop()
{
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
        for (auto& channel : running_)
            channel->cancel();
        wake_.notify_all();
    }
    for (auto& t : threads_) {
        if (t.joinable())
            t.join();
    }
}

void export_pool::run_thread()
{
    for (;;) {
        entry next;
        {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [this] { return stopping_ || !pending_.empty(); });
            if (pending_.empty())
                return;
            next = std::move(pending_.front());
            pending_.pop_front();
        }
        try {
            next.job();
        } catch (const std::exception& e) {
            // An export's own failures go to its channel; this is only what escaped that.
            log_event(log_level::error, "export.job_failed", e.what());
        }
        next.job = nullptr; // gives its slot back
        std::lock_guard lock(mutex_);
        running_.erase(std::find(running_.begin(), running_.end(), next.channel));
    }
}

} // namespace profiled
