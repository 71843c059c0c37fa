#include "common/store/postgres/postgres_spool.hpp"

#include <algorithm>
#include <cstring>

#include "common/ops/clock.hpp"
#include "common/ops/log.hpp"
#include "common/store/postgres/piece_thread.hpp"
#include "common/store/postgres/postgres.hpp"
#include "common/store/postgres/spool_connection.hpp"
#include "common/store/postgres/spool_pieces.hpp"

namespace profiled {
namespace {

// Bytes gathered before a piece is written: about a megabyte.
constexpr std::size_t piece_bytes = 1024 * 1024;

// One upload: bytes gathered into pieces, each handed to the piece thread as it fills; the last is left for the
// job's commit.
class piece_writer final : public upload_spool_writer {
public:
    piece_writer(piece_thread& writes, std::string upload_id) : writes_(writes), upload_id_(std::move(upload_id))
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
        // Every earlier piece committed before the job's commit, which counts them.
        progress_->wait();
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
            // Behind this upload's pieces still being written; nobody waits for it.
            writes_.post([upload_id = upload_id_](spool_connection& db) {
                try {
                    db.use([&](pg_connection& c) { pg_discard_upload(c, upload_id); });
                } catch (const std::exception& e) {
                    // Swept later as abandoned, once this daemon's spool connection is gone.
                    log_event(log_level::warn, "spool.discard_failed", e.what(), {{"job_id", upload_id}});
                }
            });
        } catch (const std::exception& e) {
            log_event(log_level::warn, "spool.discard_failed", e.what(), {{"job_id", upload_id_}});
        }
    }

    std::uint64_t size() const override { return size_; }

private:
    // Hands the gathered bytes to the piece thread as the next piece (recording the upload with its first); an
    // earlier piece's failure is thrown here.
    void write_piece()
    {
        progress_->check();
        auto piece = std::make_shared<upload_piece>(upload_piece{upload_id_, pieces_, written_, std::move(buffer_)});
        buffer_.clear();
        buffer_.reserve(piece_bytes);
        ++pieces_;
        written_ += static_cast<std::int64_t>(piece->bytes.size());
        progress_->add();
        writes_.post([piece, progress = progress_, now = now_ms()](spool_connection& db) {
            try {
                db.use([&](pg_connection& c) {
                    if (piece->number == 0)
                        pg_record_upload(c, piece->upload_id, now);
                    pg_store_piece(c, *piece);
                });
                progress->done(nullptr);
            } catch (...) {
                progress->done(std::current_exception());
            }
        });
    }

    piece_thread& writes_;
    std::string upload_id_;
    std::string buffer_;
    std::shared_ptr<piece_progress> progress_ = std::make_shared<piece_progress>();
    std::int64_t pieces_ = 0;  // handed over so far
    std::int64_t written_ = 0; // bytes in them
    std::uint64_t size_ = 0;
    bool sealed_ = false;
    bool discarded_ = false;
};

// A job's upload read back piece by piece from a checkpoint offset.
class piece_source final : public spool_source {
public:
    piece_source(spool_connection& db, std::string upload_id, std::int64_t offset)
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
        auto found = db_.use([&](pg_connection& db) { return pg_find_piece(db, upload_id_, offset_); });
        if (!found || !load(found->number))
            throw spool_error("the job's upload " + upload_id_ + " is not in the database", false);
        pos_ = static_cast<std::size_t>(offset_ - found->first_byte);
    }

    // Loads piece number; false when there is none.
    bool load(std::int64_t number)
    {
        auto bytes = db_.use([&](pg_connection& db) { return pg_read_piece(db, upload_id_, number); });
        if (!bytes)
            return false;
        piece_ = std::move(*bytes);
        pos_ = 0;
        next_ = number + 1;
        return true;
    }

    spool_connection& db_;
    std::string upload_id_;
    std::int64_t offset_;
    std::optional<std::int64_t> next_;
    std::string piece_;
    std::size_t pos_ = 0;
    bool ended_ = false;
};

class postgres_spool final : public upload_spool {
public:
    explicit postgres_spool(const std::string& url) : intake_(url, true), reading_(url, false), writes_(intake_) {}

    std::unique_ptr<upload_spool_writer> begin_upload(const std::string& job_id) override
    {
        return std::make_unique<piece_writer>(writes_, job_id);
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
            found.lost_jobs = writes_.run([&](spool_connection& db) {
                return db.use([&](pg_connection& c) { return pg_uploads_missing(c, unfinished_jobs); });
            });
        return found;
    }

    std::int64_t sweep_abandoned() override
    {
        return writes_.run([](spool_connection& db) {
            return db.use([](pg_connection& c) { return pg_sweep_uploads(c); });
        });
    }

private:
    spool_connection intake_;  // the piece thread's
    spool_connection reading_; // the runner's parser thread's
    piece_thread writes_;      // last: ends (its queue done) before the connections go
};

} // namespace

std::unique_ptr<upload_spool> open_postgres_spool(const std::string& url)
{
    return std::make_unique<postgres_spool>(url);
}

} // namespace profiled
