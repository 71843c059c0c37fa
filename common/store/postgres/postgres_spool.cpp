#include "common/store/postgres/postgres_spool.hpp"

#include <algorithm>
#include <cstring>

#include "common/ops/clock.hpp"
#include "common/ops/log.hpp"
#include "common/store/postgres/postgres.hpp"
#include "common/store/postgres/spool_pieces.hpp"

namespace profiled {
namespace {

// Bytes gathered before a piece is written: about a megabyte.
constexpr std::size_t piece_bytes = 1024 * 1024;

// A connection opened on first use, and opened again after it was lost.
class lazy_connection {
public:
    lazy_connection(std::string url, bool deferred_commits) : url_(std::move(url)), deferred_commits_(deferred_commits)
    {
    }

    // The open connection; throws postgres_error (unavailable) when there is none to be had.
    pg_connection& get()
    {
        if (!db_)
            db_ = std::make_unique<pg_connection>(url_);
        else
            db_->reconnect_if_lost();
        if (deferred_commits_ && !configured_) {
            // A piece need not be durable at its own commit: the commit that records its job makes it durable, as
            // it flushes the server's log up to itself, and every piece was logged before. Spares a disk sync per
            // megabyte of upload. (Asked again after a failure: a reconnection forgets it.)
            db_->query("SELECT set_config('synchronous_commit', 'off', false)");
            configured_ = true;
        }
        return *db_;
    }
    // The last use failed: the connection may have been reset.
    void failed() { configured_ = false; }

private:
    std::string url_;
    bool deferred_commits_;
    bool configured_ = false;
    std::unique_ptr<pg_connection> db_;
};

// Runs fn on the connection, noting a failure.
template <typename Fn>
auto on(lazy_connection& connection, Fn fn)
{
    try {
        return fn(connection.get());
    } catch (...) {
        connection.failed();
        throw;
    }
}

// One upload: bytes gathered into pieces, each written as it fills; the last is left for the job's commit.
class piece_writer final : public upload_spool_writer {
public:
    piece_writer(lazy_connection& db, std::string upload_id) : db_(db), upload_id_(std::move(upload_id))
    {
        buffer_.reserve(piece_bytes);
    }
    ~piece_writer() override
    {
        if (!sealed_)
            discard();
    }
    piece_writer(const piece_writer&) = delete;
    piece_writer& operator=(const piece_writer&) = delete;

    void append(std::string_view data) override
    {
        // A full piece is written once more bytes come, so that the last piece is never empty.
        if (buffer_.size() >= piece_bytes && !data.empty())
            write_piece();
        buffer_.append(data);
        size_ += data.size();
    }

    std::optional<upload_piece> seal() override
    {
        sealed_ = true;
        upload_piece last{upload_id_, pieces_, written_, std::move(buffer_)};
        buffer_.clear();
        return last;
    }

    void discard() noexcept override
    {
        if (discarded_)
            return;
        discarded_ = true;
        sealed_ = true;
        buffer_.clear();
        // Nothing reached the database but the last piece, if anything, in a job's commit that failed or was
        // refused (or a job that was recorded, whose upload stays).
        if (pieces_ == 0)
            return;
        try {
            on(db_, [&](pg_connection& db) {
                pg_discard_upload(db, upload_id_);
                return 0;
            });
        } catch (const std::exception& e) {
            // Swept later as abandoned, once this daemon's spool connection is gone.
            log_event(log_level::warn, "spool.discard_failed", e.what(), {{"job_id", upload_id_}});
        }
    }

    std::uint64_t size() const override { return size_; }

private:
    // Writes the gathered bytes as the next piece (recording the upload with its first).
    void write_piece()
    {
        upload_piece piece{upload_id_, pieces_, written_, std::move(buffer_)};
        buffer_.clear();
        buffer_.reserve(piece_bytes);
        on(db_, [&](pg_connection& db) {
            if (piece.number == 0)
                pg_record_upload(db, upload_id_, now_ms());
            pg_store_piece(db, piece);
            return 0;
        });
        ++pieces_;
        written_ += static_cast<std::int64_t>(piece.bytes.size());
    }

    lazy_connection& db_;
    std::string upload_id_;
    std::string buffer_;
    std::int64_t pieces_ = 0;  // written so far
    std::int64_t written_ = 0; // bytes in them
    std::uint64_t size_ = 0;
    bool sealed_ = false;
    bool discarded_ = false;
};

// A job's upload read back piece by piece from a checkpoint offset.
class piece_source final : public spool_source {
public:
    piece_source(lazy_connection& db, std::string upload_id, std::int64_t offset)
        : db_(db), upload_id_(std::move(upload_id)), offset_(offset)
    {
    }

    std::size_t read(char* into, std::size_t max) override
    {
        while (pos_ >= piece_.size()) {
            if (ended_)
                return 0;
            if (!next_)
                start();
            else if (!load(*next_))
                ended_ = true;
        }
        std::size_t n = std::min(max, piece_.size() - pos_);
        std::memcpy(into, piece_.data() + pos_, n);
        pos_ += n;
        return n;
    }

private:
    // Finds the piece holding the checkpoint and skips to it.
    void start()
    {
        auto found = on(db_, [&](pg_connection& db) { return pg_find_piece(db, upload_id_, offset_); });
        if (!found || !load(found->number))
            throw spool_error("the job's upload " + upload_id_ + " is not in the database", false);
        pos_ = static_cast<std::size_t>(offset_ - found->first_byte);
    }

    // Loads piece number; false when there is none.
    bool load(std::int64_t number)
    {
        auto bytes = on(db_, [&](pg_connection& db) { return pg_read_piece(db, upload_id_, number); });
        if (!bytes)
            return false;
        piece_ = std::move(*bytes);
        pos_ = 0;
        next_ = number + 1;
        return true;
    }

    lazy_connection& db_;
    std::string upload_id_;
    std::int64_t offset_;
    std::optional<std::int64_t> next_;
    std::string piece_;
    std::size_t pos_ = 0;
    bool ended_ = false;
};

class postgres_spool final : public upload_spool {
public:
    explicit postgres_spool(const std::string& url) : intake_(url, true), reading_(url, false) {}

    std::unique_ptr<upload_spool_writer> begin_upload(const std::string& job_id) override
    {
        return std::make_unique<piece_writer>(intake_, job_id);
    }

    std::unique_ptr<spool_reader> open_job(const std::string& job_id, std::int64_t offset, std::int64_t line) override
    {
        return std::make_unique<spool_reader>(std::make_unique<piece_source>(reading_, job_id, offset), offset, line);
    }

    // The transaction that ended the job removed its upload.
    void remove_job(const std::string&) noexcept override {}

    spool_recovery recover(const std::vector<std::string>& unfinished_jobs) override
    {
        spool_recovery found;
        found.removed = sweep_abandoned();
        if (!unfinished_jobs.empty())
            found.lost_jobs = on(intake_, [&](pg_connection& db) { return pg_uploads_missing(db, unfinished_jobs); });
        return found;
    }

    std::int64_t sweep_abandoned() override
    {
        return on(intake_, [](pg_connection& db) { return pg_sweep_uploads(db); });
    }

private:
    lazy_connection intake_;
    lazy_connection reading_;
};

} // namespace

std::unique_ptr<upload_spool> open_postgres_spool(const std::string& url)
{
    return std::make_unique<postgres_spool>(url);
}

} // namespace profiled
