#include "daemon/serve/spool_thread.hpp"

#include <exception>

#include "common/ops/log.hpp"
#include "common/ops/thread_roles.hpp"

namespace profiled {

spool_thread::spool_thread()
{
    thread_ = std::thread([this] { run(); });
}

spool_thread::~spool_thread() { stop(); }

void spool_thread::post(job j)
{
    {
        std::lock_guard lock(mutex_);
        if (!ended_) {
            pending_.push_back(std::move(j));
            wake_.notify_one();
            return;
        }
    }
    // Shutting down, with the io thread gone: nothing else runs jobs now, so running it here keeps them one at a time.
    run_one(j);
}

void spool_thread::stop()
{
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
        wake_.notify_one();
    }
    if (thread_.joinable())
        thread_.join();
}

void spool_thread::run()
{
    name_this_thread("profiled-spool");
    make_this_thread_background();
    for (;;) {
        job next;
        {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [this] { return stopping_ || !pending_.empty(); });
            if (pending_.empty()) {
                ended_ = true;
                return;
            }
            next = std::move(pending_.front());
            pending_.pop_front();
        }
        run_one(next);
    }
}

void spool_thread::run_one(job& j)
{
    try {
        j();
    } catch (const std::exception& e) {
        log_event(log_level::error, "spool_thread.job_failed", e.what());
    }
}

} // namespace profiled
