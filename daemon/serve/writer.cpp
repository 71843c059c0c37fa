#include "daemon/serve/writer.hpp"

#include <chrono>

#include "common/ops/log.hpp"
#include "common/store/sqlite/sqlite.hpp"

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

// Queues work; done is called once it is durable or has failed.
void writer::submit(work w, completion done)
{
    {
        std::lock_guard lock(mutex_);
        if (!stopping_) {
            pending_.push_back({std::move(w), std::move(done)});
            wake_.notify_one();
            return;
        }
    }
    done(api_error{errc::unavailable, "shutting_down", "the server is shutting down; retry shortly", {}});
}

// Commits what is queued, then stops the thread.
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

// The writer thread: takes everything pending (up to max_group_) and commits it as one transaction.
void writer::run()
{
    for (;;) {
        std::deque<item> group;
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
            while (!pending_.empty() && group.size() < max_group_) {
                group.push_back(std::move(pending_.front()));
                pending_.pop_front();
            }
        }
        last_group_size_ = group.size();
        commit_group(group);
    }
}

namespace {
// The error a whole group gets when its transaction cannot commit.
api_error infrastructure_error(const std::exception& e)
{
    auto* s = dynamic_cast<const sqlite_error*>(&e);
    if (s && s->disk_full())
        return {errc::insufficient_storage, "disk_full", "the server's disk is full; retry later", {}};
    // Another process holds the database's write lock (a backup, an operator's sqlite3 shell): temporary.
    if (s && s->busy())
        return {errc::unavailable, "database_busy",
                "the database is locked by another process and the write timed out waiting; retry shortly", {}};
    // The database file was deleted or moved under us, or is read-only: nothing can be made durable.
    if (s && s->read_only())
        return {errc::unavailable, "database_unwritable",
                "the database cannot be written (deleted, moved or read-only); the server log has the details", {}};
    return internal_error();
}
} // namespace

// One transaction for the group: each item in its own savepoint so a refused item does not undo the others.
void writer::commit_group(std::deque<item>& group)
{
    std::vector<std::optional<api_error>> outcome(group.size());
    auto started = std::chrono::steady_clock::now();
    try {
        db_->begin();
        for (std::size_t i = 0; i < group.size(); ++i) {
            db_->savepoint();
            try {
                group[i].w(*db_);
                db_->release_savepoint();
            } catch (const api_exception& e) {
                db_->rollback_savepoint();
                outcome[i] = e.error();
            } catch (const sqlite_error& e) {
                // A failed statement may have ended the whole transaction (disk full, I/O error): give up the group.
                throw;
            } catch (const std::exception& e) {
                log_event(log_level::error, "writer.error", e.what());
                db_->rollback_savepoint();
                outcome[i] = internal_error();
            }
        }
        db_->commit();
    } catch (const std::exception& e) {
        log_event(log_level::error, "writer.commit_failed", e.what(), {{"items", group.size()}});
        db_->rollback();
        api_error failure = infrastructure_error(e);
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
