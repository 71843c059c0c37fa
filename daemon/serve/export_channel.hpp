// The bounded queue between an export's thread, which reads the snapshot page by page, and the io thread, which
// writes the pages to the client as fast as it takes them: a slow client fills the queue and so stops the reader.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "daemon/serve/off_loop.hpp"

namespace profiled {

// A page of an export: its rows as NDJSON lines, and how many.
struct export_piece {
    std::string lines;
    std::uint64_t rows = 0;
};

class export_channel : public std::enable_shared_from_this<export_channel> {
public:
    // At most capacity pieces wait in the queue; pop's deadlines are timers on the io thread's executor.
    export_channel(boost::asio::any_io_executor io, std::size_t capacity);

    // On the export thread: queues piece, waiting while the queue is full; false (piece dropped) once the reader
    // cancelled, when the export should stop.
    bool push(export_piece piece);
    // On the export thread: no more pieces, because the export is complete or (failure set) could not go on.
    void finish(std::exception_ptr failure = nullptr);

    // On the io thread: the next piece, or nothing once the export is complete; rethrows the export's failure
    // once the pieces before it are taken, and throws api_exception store_timeout when no piece comes within
    // timeout. Not a coroutine (see off_loop).
    boost::asio::awaitable<std::optional<export_piece>> pop(std::chrono::seconds timeout);
    // From any thread: the reader is gone; push refuses from now on and the queued pieces are dropped.
    void cancel();

private:
    using waiter = resumption<std::optional<export_piece>>;
    // Hands the front piece, the end or the failure to resume; false when there is nothing yet. Lock held.
    bool deliver(const waiter& resume);

    boost::asio::any_io_executor io_;
    std::size_t capacity_;
    std::mutex mutex_;
    std::condition_variable room_;
    std::deque<export_piece> queue_;
    bool finished_ = false;
    bool cancelled_ = false;
    std::exception_ptr failure_;
    std::optional<waiter> waiting_;      // the io thread's pop, while the queue is empty
    std::function<void()> cancel_timer_; // its deadline's, once it has one
};

} // namespace profiled
