#include "common/store/postgres/piece_thread.hpp"

#include "common/ops/log.hpp"
#include "common/ops/thread_roles.hpp"

namespace profiled {

namespace {

// Work waiting for the thread at most, beside the one it is doing.
constexpr std::size_t max_waiting = 2;

} // namespace

void piece_progress::add()
{
    std::lock_guard lock(mutex_);
    ++pending_;
}

void piece_progress::done(std::exception_ptr failure)
{
    std::lock_guard lock(mutex_);
    --pending_;
    if (failure && !failure_)
        failure_ = failure;
    settled_.notify_all();
}

void piece_progress::wait()
{
    std::unique_lock lock(mutex_);
    settled_.wait(lock, [this] { return pending_ == 0; });
    if (failure_)
        std::rethrow_exception(failure_);
}

void piece_progress::check()
{
    std::lock_guard lock(mutex_);
    if (failure_)
        std::rethrow_exception(failure_);
}

piece_thread::piece_thread(spool_connection& db) : db_(db)
{
    thread_ = std::thread([this] { loop(); });
}

piece_thread::~piece_thread()
{
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
        wake_.notify_one();
    }
    thread_.join();
}

void piece_thread::post(work w)
{
    std::unique_lock lock(mutex_);
    room_.wait(lock, [this] { return queue_.size() < max_waiting; });
    queue_.push_back(std::move(w));
    wake_.notify_one();
}

void piece_thread::loop()
{
    name_this_thread("profiled-pieces");
    make_this_thread_background();
    for (;;) {
        work next;
        {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
            if (queue_.empty())
                return;
            next = std::move(queue_.front());
            queue_.pop_front();
            room_.notify_one();
        }
        try {
            next(db_);
        } catch (const std::exception& e) {
            log_event(log_level::error, "spool.work_failed", e.what());
        }
    }
}

} // namespace profiled
