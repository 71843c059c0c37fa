#include "daemon/serve/writer.hpp"

#include <chrono>
#include <iterator>
#include <optional>

#include "common/ops/log.hpp"
#include "common/ops/thread_roles.hpp"
#include "common/store/store_error.hpp"
#include "daemon/api/store_failures.hpp"
#include "daemon/serve/store_health.hpp"

namespace profiled {

writer::writer(store& db, std::size_t max_group)
    : db_(db.open_writer(commit_durability::deferred)), max_group_(max_group)
{
    durability_thread_ = std::thread([this] { run_durability(); });
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
    {
        std::lock_guard lock(durable_mutex_);
        durable_stopping_ = true;
        durable_wake_.notify_one();
    }
    if (durability_thread_.joinable())
        durability_thread_.join();
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
            // No waiting for a fuller group: while the durability thread syncs one group the next is committed,
            // and one sync covers every group committed before it began.
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
    // A job's chunk is background work: requests that arrive while it commits get the CPU first.
    std::optional<background_while> yielding;
    if (holds_job_chunk(batch))
        yielding.emplace();
    try {
        outcomes = db_->apply(batch, unit_ends);
        if (health_)
            health_->reached();
    } catch (const std::exception& e) {
        auto* store_failed = dynamic_cast<const store_error*>(&e);
        if (store_failed && health_)
            health_->failed(*store_failed);
        std::string_view kind = failure_name(store_failed ? store_failed->kind() : store_failure::other);
        log_event(log_level::error, "writer.commit_failed", e.what(), {{"items", group.size()}, {"failure", kind}});
        failure = store_failed ? api_error_for(*store_failed) : internal_error();
    }
    yielding.reset();
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    if (observer_)
        observer_(group.size(), seconds);
    if (failure) {
        for (auto& it : group)
            it.done(failure, {});
        return;
    }
    std::vector<answer> answers;
    answers.reserve(group.size());
    std::size_t next = 0;
    for (auto& it : group) {
        std::size_t n = it.ops.size();
        answers.push_back({std::move(it.done), {std::make_move_iterator(outcomes.begin() + next),
                                                std::make_move_iterator(outcomes.begin() + next + n)}});
        next += n;
    }
    after_durable(std::move(answers));
}

void writer::after_durable(std::vector<answer> answers)
{
    std::lock_guard lock(durable_mutex_);
    if (committed_.empty())
        committed_ = std::move(answers);
    else
        std::move(answers.begin(), answers.end(), std::back_inserter(committed_));
    durable_wake_.notify_one();
}

void writer::run_durability()
{
    name_this_thread("profiled-sync");
    for (;;) {
        std::vector<answer> answers;
        {
            std::unique_lock lock(durable_mutex_);
            durable_wake_.wait(lock, [this] { return durable_stopping_ || !committed_.empty(); });
            if (committed_.empty())
                return;
            answers.swap(committed_);
        }
        // Every answer taken was committed before this sync begins, so the sync covers them all.
        std::optional<api_error> failure;
        auto started = std::chrono::steady_clock::now();
        try {
            db_->make_durable();
        } catch (const std::exception& e) {
            auto* store_failed = dynamic_cast<const store_error*>(&e);
            log_event(log_level::error, "writer.sync_failed", e.what(), {{"items", answers.size()}});
            failure = store_failed ? api_error_for(*store_failed) : internal_error();
        }
        if (sync_observer_)
            sync_observer_(answers.size(), std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
        for (auto& a : answers) {
            if (failure)
                a.done(failure, {});
            else
                a.done(std::nullopt, std::move(a.outcomes));
        }
        try {
            db_->maintain();
        } catch (const std::exception& e) {
            log_event(log_level::warn, "writer.maintain_failed", e.what());
        }
    }
}

} // namespace profiled
