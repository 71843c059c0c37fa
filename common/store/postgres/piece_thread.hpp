// The PostgreSQL spool's writing thread: writes an upload's pieces while the spool thread goes on receiving and
// parsing it, and does the spool's other work on the same connection in order; private to the engine.
#pragma once

#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <future>
#include <mutex>
#include <thread>

#include "common/store/postgres/spool_connection.hpp"

namespace profiled {

// Where one upload's pieces stand: how many are still being written, and the first failure.
class piece_progress {
public:
    // One more piece handed over.
    void add();
    // A piece written, or failed with failure.
    void done(std::exception_ptr failure);
    // Waits until every piece handed over is written; rethrows the first failure.
    void wait();
    // Rethrows the first failure so far, if any, without waiting.
    void check();

private:
    std::mutex mutex_;
    std::condition_variable settled_;
    int pending_ = 0;
    std::exception_ptr failure_;
};

class piece_thread {
public:
    // Work for the thread, on its connection; it must catch what it throws.
    using work = std::function<void(spool_connection&)>;

    // Starts the thread, which owns db from now on.
    explicit piece_thread(spool_connection& db);
    // Does what is queued, then ends the thread.
    ~piece_thread();
    piece_thread(const piece_thread&) = delete;
    piece_thread& operator=(const piece_thread&) = delete;

    // Queues work behind what is queued, first waiting while two are waiting already: one piece written, one ready,
    // so that a fast client waits on the database rather than filling memory.
    void post(work w);
    // Runs fn on the thread and returns what it returns (or throws what it threw).
    template <typename Fn>
    auto run(Fn fn)
    {
        using result = decltype(fn(std::declval<spool_connection&>()));
        auto promise = std::make_shared<std::promise<result>>();
        auto future = promise->get_future();
        post([fn = std::move(fn), promise](spool_connection& db) mutable {
            try {
                if constexpr (std::is_void_v<result>) {
                    fn(db);
                    promise->set_value();
                } else {
                    promise->set_value(fn(db));
                }
            } catch (...) {
                promise->set_exception(std::current_exception());
            }
        });
        return future.get();
    }

private:
    // The thread's loop: work in order until stopped with nothing left.
    void loop();

    spool_connection& db_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::condition_variable room_;
    std::deque<work> queue_;
    bool stopping_ = false;
    std::thread thread_;
};

} // namespace profiled
