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

#include "common/api_error.hpp"
#include "common/store/store.hpp"

namespace profiled {

// Figures the writer keeps for /metrics and STATUS=.
struct writer_stats {
    std::uint64_t batches = 0;
    std::uint64_t items = 0;
    std::uint64_t failed_commits = 0;
};

class writer {
public:
    // Changes made through the store_writer inside the group's transaction; throw api_exception to refuse.
    using work = std::function<void(store_writer&)>;
    // Called on the writer thread once the group committed (nullopt) or the work was refused or failed.
    using completion = std::function<void(std::optional<api_error>)>;
    // Called on the writer thread after each group commit: items in the group and commit seconds.
    using batch_observer = std::function<void(std::size_t items, double commit_seconds)>;

    explicit writer(store& db, std::size_t max_group = 512);
    ~writer();
    writer(const writer&) = delete;
    writer& operator=(const writer&) = delete;

    // How an item can end: a plain write (upserts) is never refused, so it needs no savepoint of its own; a
    // refusable one (people operations, alias, job insert) may throw api_exception and is undone alone.
    enum class write_kind { plain, refusable };

    // The latest moment the writer may start an item; a request's deadline.
    using deadline = std::chrono::steady_clock::time_point;

    // Queues work; done is called once it is durable or has failed. An item whose deadline has passed when the
    // writer takes it into a group is answered 503 store_timeout without running (so it is not applied); an item
    // already in a group is committed or failed with the group, however long that takes.
    void submit(work w, completion done, write_kind kind = write_kind::refusable, deadline until = deadline::max());
    // Commits what is queued, then stops the thread. Later submits fail with 503.
    void stop();
    // Registers the observer for batch figures (before any submit).
    void on_batch(batch_observer observer) { observer_ = std::move(observer); }
    // Pending items not yet taken into a group.
    std::size_t queue_depth();

private:
    struct item {
        work w;
        completion done;
        write_kind kind = write_kind::refusable;
        deadline until = deadline::max();
    };
    // The writer thread's loop: takes what is pending and commits it in groups.
    void run();
    // Commits one group in one transaction and answers each item.
    void commit_group(std::deque<item>& group);
    // Runs the group's items inside the open transaction, each refusable item (or every item, when
    // savepoint_all) in its own savepoint; false when a plain item failed, which leaves the transaction to
    // roll back and the group to be run again with savepoint_all.
    bool run_items(std::deque<item>& group, std::vector<std::optional<api_error>>& outcome, bool savepoint_all);

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
