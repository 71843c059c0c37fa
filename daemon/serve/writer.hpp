// The writer: one thread that owns the only write connection and commits pending writes in groups, and a second
// that makes each committed group durable and then answers it, while the first commits the next.
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

class store_health;

// Figures the writer keeps for /metrics and STATUS=.
struct writer_stats {
    std::uint64_t batches = 0;
    std::uint64_t items = 0;
    std::uint64_t failed_commits = 0;
};

class writer {
public:
    // Called once the operations are durable (nullopt), or with the first refusal among them, or with the
    // failure when the batch failed; on one of the writer's two threads.
    using completion = std::function<void(std::optional<api_error>)>;
    // Called with what each operation did once the batch is durable; failure is set (and outcomes empty) when the
    // batch failed as a whole. On one of the writer's two threads.
    using outcomes_completion =
        std::function<void(std::optional<api_error> failure, std::vector<operation_outcome> outcomes)>;
    // Called on the writer thread after each group commit: items in the group and commit seconds (until
    // committed; making it durable overlaps the next group's commit).
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
    // Registers the observer of each sync, called on the durability thread with the items it made durable and
    // its seconds (before any submit).
    void on_sync(batch_observer observer) { sync_observer_ = std::move(observer); }
    // Registers where each commit's success, or failure for want of the database, is told (before any submit).
    void report_health(store_health& health) { health_ = &health; }
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
    // Applies one group's operations as one batch and hands each item's answer to the durability thread.
    void commit_group(std::deque<item>& group);
    // An item's answer, given once its group is durable.
    struct answer {
        outcomes_completion done;
        std::vector<operation_outcome> outcomes;
    };
    // The durability thread's loop: makes every committed group durable with one sync, then answers its items.
    void run_durability();
    // Hands committed answers to the durability thread.
    void after_durable(std::vector<answer> answers);

    std::unique_ptr<store_writer> db_;
    std::size_t max_group_;
    batch_observer observer_;
    batch_observer sync_observer_;
    store_health* health_ = nullptr;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<item> pending_;
    bool stopping_ = false;
    std::mutex durable_mutex_;
    std::condition_variable durable_wake_;
    std::vector<answer> committed_; // waiting for the next sync
    bool durable_stopping_ = false;
    std::thread thread_;
    std::thread durability_thread_;
};

} // namespace profiled
