// Key changes and the database's reachability, watched off the io thread for engines whose key_version() is a
// round trip to a server (see store_reader::wait_key_version): a thread with a reader of its own waits for
// announced key changes and reads the key version at least every poll_interval, which is also how an outage
// is noticed (and its end) without any traffic. For an engine whose key version is a local read it does nothing,
// and the io thread goes on asking its own reader on every request.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>

#include "common/store/store.hpp"
#include "daemon/serve/store_health.hpp"

namespace profiled {

class key_watch {
public:
    // The longest a key change announced by no notification (or lost with a connection) goes unseen.
    static constexpr std::chrono::milliseconds poll_interval{200};

    // Opens a reader on db and, when the engine is one to watch, starts the thread; health hears what each
    // look at the database found. Throws what opening the reader throws.
    key_watch(store& db, store_health& health);
    // Stops the thread.
    ~key_watch();
    key_watch(const key_watch&) = delete;
    key_watch& operator=(const key_watch&) = delete;

    // The reader the io thread authenticates with: io_reader itself when nothing is watched, else one that answers
    // key_version() with the version last seen here and hands every other query to io_reader. Valid while this
    // watch lives.
    store_reader& reader_for_io(store_reader& io_reader);
    // Ends the thread (within about poll_interval).
    void stop();

private:
    // The thread's loop: waits for key changes and reads the version, until stopped.
    void run();

    store_health& health_;
    std::unique_ptr<store_reader> reader_;
    std::atomic<std::uint64_t> version_{0};
    std::unique_ptr<store_reader> io_reader_;
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    std::thread thread_;
};

} // namespace profiled
