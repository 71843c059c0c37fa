#include "daemon/serve/writer.hpp"

#include <algorithm>
#include <chrono>
#include <iterator>

#include "common/ops/log.hpp"
#include "common/ops/thread_roles.hpp"
#include "common/store/store_error.hpp"
#include "daemon/api/store_failures.hpp"

namespace profiled {

namespace {
// The longest a commit waits for the writes of the clients the previous commit answered.
constexpr auto gather_window = std::chrono::microseconds(1000);
} // namespace

writer::writer(store& db, std::size_t max_group) : db_(db.open_writer()), max_group_(max_group)
{
    thread_ = std::thread([this] { run(); });
}

writer::~writer() { stop(); }

void writer::submit(std::vector<store_operation> ops, completion done, deadline until)
{
    enqueue({std::move(ops),
             [done = std::move(done)](std::optional<api_error> failure, std::vector<operation_outcome> outcomes) {
                 if (failure)
                     return done(std::move(failure));
                 for (auto& o : outcomes) {
                     if (o.refused)
                         return done(std::move(o.refused));
                 }
                 done(std::nullopt);
             },
             until});
}

void writer::submit(std::vector<store_operation> ops, outcomes_completion done, deadline until)
{
    enqueue({std::move(ops), std::move(done), until});
}

void writer::enqueue(item it)
{
    {
        std::lock_guard lock(mutex_);
        if (!stopping_) {
            pending_.push_back(std::move(it));
            wake_.notify_one();
            return;
        }
    }
    it.done(api_error{errc::unavailable, "shutting_down", "the server is shutting down; retry shortly", {}}, {});
}

void writer::stop()
{
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
        wake_.notify_one();
    }
    if (thread_.joinable())
        thread_.join();
}

std::size_t writer::queue_depth()
{
    std::lock_guard lock(mutex_);
    return pending_.size();
}

void writer::run()
{
    name_this_thread("profiled-writer");
    for (;;) {
        std::deque<item> group, late;
        {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [this] { return stopping_ || !pending_.empty(); });
            if (pending_.empty() && stopping_)
                return;
            // Clients answered by the last commit are sending their next writes right now: waiting a moment
            // for them makes one commit (one fsync) serve them all, instead of two half-size groups taking
            // turns behind each other's fsync.
            if (pending_.size() < last_group_size_)
                wake_.wait_for(lock, gather_window, [this] { return stopping_ || pending_.size() >= last_group_size_; });
            auto now = std::chrono::steady_clock::now();
            while (!pending_.empty() && group.size() < max_group_) {
                (pending_.front().until < now ? late : group).push_back(std::move(pending_.front()));
                pending_.pop_front();
            }
        }
        // Late items never run: their clients are answered 503 store_timeout, which must mean not applied.
        for (auto& i : late)
            i.done(store_timeout_error(), {});
        if (group.empty())
            continue;
        last_group_size_ = group.size();
        commit_group(group);
    }
}

void writer::commit_group(std::deque<item>& group)
{
    std::vector<store_operation> batch;
    std::vector<std::size_t> unit_ends; // each submission is all or nothing
    for (auto& it : group) {
        std::move(it.ops.begin(), it.ops.end(), std::back_inserter(batch));
        unit_ends.push_back(batch.size());
    }
    std::vector<operation_outcome> outcomes;
    std::optional<api_error> failure;
    auto started = std::chrono::steady_clock::now();
    try {
        outcomes = db_->apply(batch, unit_ends);
    } catch (const std::exception& e) {
        auto* store_failed = dynamic_cast<const store_error*>(&e);
        std::string_view kind = failure_name(store_failed ? store_failed->kind() : store_failure::other);
        log_event(log_level::error, "writer.commit_failed", e.what(), {{"items", group.size()}, {"failure", kind}});
        failure = store_failed ? api_error_for(*store_failed) : internal_error();
    }
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    if (observer_)
        observer_(group.size(), seconds);
    std::size_t next = 0;
    for (auto& it : group) {
        std::size_t n = it.ops.size();
        if (failure) {
            it.done(failure, {});
            continue;
        }
        std::vector<operation_outcome> mine(std::make_move_iterator(outcomes.begin() + next),
                                            std::make_move_iterator(outcomes.begin() + next + n));
        next += n;
        it.done(std::nullopt, std::move(mine));
    }
}

} // namespace profiled
