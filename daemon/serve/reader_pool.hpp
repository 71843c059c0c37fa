// The reader pool: a few threads, each with its own store_reader, that run the handlers' reads so the io thread
// never waits on the store. A read not answered within the request timeout fails with 503 store_timeout.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "common/store/store.hpp"

namespace boost::asio {
class io_context;
}

namespace profiled {

class store_health;

class reader_pool {
public:
    // A read on one reader thread's store_reader.
    using read_job = std::function<void(store_reader&)>;

    // Opens one reader per thread; deadlines are timers on io, which must outlive the pool. health, when given,
    // hears of each read that succeeded or failed for want of the database.
    reader_pool(store& db, boost::asio::io_context& io, std::size_t threads, std::chrono::seconds timeout,
                store_health* health = nullptr);
    ~reader_pool();
    reader_pool(const reader_pool&) = delete;
    reader_pool& operator=(const reader_pool&) = delete;

    // Runs read(store_reader&) on a reader thread; the coroutine goes on, on its own executor, with what it
    // returned or rethrowing what it threw, or with an api_exception store_timeout when the request timeout passes
    // first (the late result is dropped). read must own what it uses (capture by value): it may run after the
    // coroutine has moved on. Not a coroutine itself (see off_loop). Call it on the io thread.
    template <typename Read>
    boost::asio::awaitable<std::invoke_result_t<Read&, store_reader&>> run(Read read)
    {
        using result = std::invoke_result_t<Read&, store_reader&>;
        auto value = std::make_shared<std::optional<result>>();
        // Type-erased into run_job, so each read costs its handler's file one small coroutine, not a bridge.
        auto job = run_job([read = std::move(read), value](store_reader& r) mutable { value->emplace(read(r)); });
        return take_result(std::move(job), value);
    }
    // Runs the reads already queued, then ends the threads.
    void stop();

private:
    // Runs job on a reader thread; completes when it has run, rethrowing what it threw, or with store_timeout.
    boost::asio::awaitable<bool> run_job(read_job job);
    // Waits for a read started by run_job, then gives what it stored in value.
    template <typename T>
    static boost::asio::awaitable<T> take_result(boost::asio::awaitable<bool> read,
                                                 std::shared_ptr<std::optional<T>> value)
    {
        co_await std::move(read);
        co_return std::move(**value);
    }
    // Queues job for the next free reader thread.
    void post(read_job job);
    // Arms the request timeout on the io thread: expire gets the store_timeout exception once it passes, unless
    // the returned cancel (callable from any thread) came first.
    std::function<void()> start_deadline(std::function<void(std::exception_ptr)> expire);
    // One thread's loop: queued reads on its own reader, until stopped with nothing left.
    void run_thread(store_reader& reader);

    boost::asio::io_context& io_;
    std::chrono::seconds timeout_;
    store_health* health_;
    std::vector<std::unique_ptr<store_reader>> readers_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<read_job> pending_;
    bool stopping_ = false;
    std::vector<std::thread> threads_;
};

} // namespace profiled
