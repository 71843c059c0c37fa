#include "daemon/serve/writer.hpp"

#include <algorithm>
#include <chrono>

#include "common/ops/log.hpp"
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

void writer::submit(work w, completion done, write_kind kind, deadline until)
{
    {
        std::lock_guard lock(mutex_);
        if (!stopping_) {
            pending_.push_back({std::move(w), std::move(done), kind, until});
            wake_.notify_one();
            return;
        }
    }
    done(api_error{errc::unavailable, "shutting_down", "the server is shutting down; retry shortly", {}});
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
            i.done(store_timeout_error());
        if (group.empty())
            continue;
        last_group_size_ = group.size();
        commit_group(group);
    }
}

bool writer::run_items(std::deque<item>& group, std::vector<std::optional<api_error>>& outcome, bool savepoint_all)
{
    for (std::size_t i = 0; i < group.size(); ++i) {
        bool own_savepoint = savepoint_all || group[i].kind == write_kind::refusable;
        if (own_savepoint)
            db_->savepoint();
        try {
            group[i].w(*db_);
            if (own_savepoint)
                db_->release_savepoint();
        } catch (const store_error&) {
            // A failed statement may have ended the whole transaction (disk full, I/O error): give up the group.
            throw;
        } catch (const std::exception& e) {
            if (!own_savepoint)
                return false; // its half-done changes cannot be undone alone
            db_->rollback_savepoint();
            if (auto* refused = dynamic_cast<const api_exception*>(&e)) {
                outcome[i] = refused->error();
            } else {
                log_event(log_level::error, "writer.error", e.what());
                outcome[i] = internal_error();
            }
        }
    }
    return true;
}

// One transaction for the group. Plain items run without savepoints (two statements fewer each); should one
// of them fail, the group runs again with every item in its own savepoint, so a failed item undoes only itself.
void writer::commit_group(std::deque<item>& group)
{
    std::vector<std::optional<api_error>> outcome(group.size());
    auto started = std::chrono::steady_clock::now();
    try {
        db_->begin();
        if (!run_items(group, outcome, false)) {
            db_->rollback();
            std::fill(outcome.begin(), outcome.end(), std::nullopt);
            db_->begin();
            run_items(group, outcome, true);
        }
        db_->commit();
    } catch (const std::exception& e) {
        auto* store_failed = dynamic_cast<const store_error*>(&e);
        std::string_view kind = failure_name(store_failed ? store_failed->kind() : store_failure::other);
        log_event(log_level::error, "writer.commit_failed", e.what(), {{"items", group.size()}, {"failure", kind}});
        db_->rollback();
        api_error failure = store_failed ? api_error_for(*store_failed) : internal_error();
        for (auto& o : outcome)
            o = failure;
    }
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    if (observer_)
        observer_(group.size(), seconds);
    for (std::size_t i = 0; i < group.size(); ++i)
        group[i].done(std::move(outcome[i]));
}

} // namespace profiled
