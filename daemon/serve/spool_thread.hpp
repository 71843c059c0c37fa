// The spool thread: one thread that does the blocking work of uploads (parsing, hashing, spool appends, fsync,
// rename) in the order it was handed over, so that the io thread never waits on the disk.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <type_traits>

#include "daemon/serve/off_loop.hpp"

namespace profiled {

class spool_thread {
public:
    // Work for the spool thread; what it throws is logged and goes no further.
    using job = std::function<void()>;

    spool_thread();
    ~spool_thread();
    spool_thread(const spool_thread&) = delete;
    spool_thread& operator=(const spool_thread&) = delete;

    // Queues a job behind those already queued; once the thread has ended, runs it at once on the caller's thread.
    void post(job j);
    // Runs what is queued, then ends the thread.
    void stop();

private:
    // The thread's loop: jobs one at a time, in order, until stopped with nothing left.
    void run();
    // Runs one job, logging what it throws.
    static void run_one(job& j);

    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<job> pending_;
    bool stopping_ = false;
    bool ended_ = false;
    std::thread thread_;
};

// Runs work on the spool thread; the coroutine goes on, on its own executor, with what work returned or rethrowing
// what it threw. work must be copyable and own what it uses beyond the awaiting coroutine's frame.
template <typename Work>
boost::asio::awaitable<std::invoke_result_t<Work&>> on_spool_thread(spool_thread& spooler, Work work)
{
    using result = std::invoke_result_t<Work&>;
    return off_loop<result>([&spooler, work = std::move(work)](resumption<result> resume) mutable {
        spooler.post([work = std::move(work), resume]() mutable { resume.deliver(work); });
    });
}

} // namespace profiled
