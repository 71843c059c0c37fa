// The export threads: a few threads of their own, apart from the reader pool, so that long exports never keep
// ordinary reads waiting; one export runs on each, and more exports than threads at once are refused.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace profiled {

class export_channel;

class export_pool {
public:
    // Starts slots threads: at most that many exports run at once.
    explicit export_pool(std::size_t slots);
    ~export_pool();
    export_pool(const export_pool&) = delete;
    export_pool& operator=(const export_pool&) = delete;

    // A place among the exports running at once, or nothing when all are taken. It is given back when its last
    // copy goes: the export's response holds one until it is sent (or its client gone) and its job another until
    // its snapshot is closed, so a slot is also a free thread.
    std::shared_ptr<void> take_slot();
    // Runs export_job, which holds a slot, on an export thread; it writes into channel.
    void run(std::shared_ptr<export_channel> channel, std::function<void()> export_job);
    // Cancels the running exports' channels, so their jobs stop at their next page, and ends the threads.
    void stop();

private:
    struct entry {
        std::shared_ptr<export_channel> channel;
        std::function<void()> job;
    };
    // One thread's loop: the next export, until stopped.
    void run_thread();

    std::size_t slots_;
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<entry> pending_;
    std::vector<std::shared_ptr<export_channel>> running_; // pending or on a thread, cancelled by stop()
    // Slots taken; shared with the slots, which may outlive the pool in a response not yet destroyed.
    struct slot_count {
        std::mutex mutex;
        std::size_t taken = 0;
    };
    std::shared_ptr<slot_count> slots_taken_ = std::make_shared<slot_count>();
    bool stopping_ = false;
    std::vector<std::thread> threads_;
};

} // namespace profiled
