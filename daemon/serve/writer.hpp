// The writer: one thread that owns the only write connection and commits pending writes in groups.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "common/api_error.hpp"
#include "common/store/store.hpp"
#include "common/store/store_operations.hpp"

namespace profiled {

// Figures the writer keeps for /metrics and STATUS=.
struct writer_stats {
    std::uint64_t batches = 0;
    std::uint64_t items = 0;
    std::uint64_t failed_commits = 0;
};

class writer {
public:
    // Called on the writer thread once the operations committed (nullopt), or with the first refusal among them,
    // or with the failure when the batch failed.
    using completion = std::function<void(std::optional<api_error>)>;
    // Called on the writer thread with what each operation did once the batch committed; failure is set (and
    // outcomes empty) when the batch failed as a whole.
    using outcomes_completion =
        std::function<void(std::optional<api_error> failure, std::vector<operation_outcome> outcomes)>;
    // Called on the writer thread after each group commit: items in the group and commit seconds.
    using batch_observer = std::function<void(std::size_t items, double commit_seconds)>;

    explicit writer(store& db, std::size_t max_group = 512);
    ~writer();
    writer(const writer&) = delete;
    writer& operator=(const writer&) = delete;

    // The latest moment the writer may start an item; a request's deadline.
    using deadline = std::chrono::steady_clock::time_point;

    // Queues operations for the next batch; done is called once they are durable or have failed. The submission
    // is all or nothing: a refused operation undoes the submission's other operations too, never another's. A
    // submission whose deadline has passed when the writer takes it into a group is answered 503 store_timeout
    // without running (so it is not applied); one already in a group is committed or failed with the group,
    // however long that takes.
    void submit(std::vector<store_operation> ops, completion done, deadline until = deadline::max());
    // The same, for callers that need what the operations return (upsert outcomes, a claimed job, ...).
    void submit(std::vector<store_operation> ops, outcomes_completion done, deadline until = deadline::max());
    // Commits what is queued, then stops the thread. Later submits fail with 503.
    void stop();
    // Registers the observer for batch figures (before any submit).
    void on_batch(batch_observer observer) { observer_ = std::move(observer); }
    // Pending items not yet taken into a group.
    std::size_t queue_depth();

private:
    struct item {
        std::vector<store_operation> ops;
        outcomes_completion done;
        deadline until = deadline::max();
    };
    // Queues an item, or answers it with 503 when stopping.
    void enqueue(item it);
    // The writer thread's loop: takes what is pending and commits it in groups.
    void run();
    // Applies one group's operations as one batch and answers each item.
    void commit_group(std::deque<item>& group);

    std::unique_ptr<store_writer> db_;
    std::size_t max_group_;
    std::size_t last_group_size_ = 0; // writer thread only
    batch_observer observer_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<item> pending_;
    bool stopping_ = false;
    std::thread thread_;
};

} // namespace profiled
