// The upload spool behind the store seam: where a bulk upload's NDJSON rows wait for their job. An engine whose
// database serves one daemon keeps them in files of the data directory; an engine several daemons share keeps
// them in the database, in pieces, so that any daemon can run any job.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/formats/spool_file.hpp"

namespace profiled {

// The last piece of an upload spooled into the database: committed with the job's insert (insert_job), so that the
// job and the whole of its upload become durable together.
struct upload_piece {
    std::string upload_id;       // the job id
    std::int64_t number = 0;     // pieces are numbered from 0, in upload order
    std::int64_t first_byte = 0; // where the piece starts in the upload
    std::string bytes;
};

// Writes one upload's rows as they arrive; blocking, used by one thread at a time (the spool thread). Unless its job
// was recorded, nothing is left behind: the destructor discards what was not sealed.
class upload_spool_writer {
public:
    virtual ~upload_spool_writer() = default;
    // Appends bytes; writes them out in pieces of about a megabyte. Throws spool_error, or store_error when the
    // database failed.
    virtual void append(std::string_view data) = 0;
    // Makes every byte durable but the last piece, which it returns to commit with the job (insert_job); nothing
    // when the whole upload is durable already (a file). Throws as append.
    virtual std::optional<upload_piece> seal() = 0;
    // Removes what was written, sealed or not: the job was not recorded. Throws nothing.
    virtual void discard() noexcept = 0;
    // Bytes appended so far.
    virtual std::uint64_t size() const = 0;
};

// What start-up recovery found in the spool.
struct spool_recovery {
    std::vector<std::string> lost_jobs; // unfinished jobs whose upload is not in the spool
    std::int64_t removed = 0;           // uploads removed: half received, or of jobs that ended or never were
};

// A store's upload spool. Writers on the spool thread; readers read on the runner's parser thread.
class upload_spool {
public:
    virtual ~upload_spool() = default;
    // Starts spooling the upload of the job job_id (an id of ours, never the client's). Throws spool_error, or
    // store_error when the database failed.
    virtual std::unique_ptr<upload_spool_writer> begin_upload(const std::string& job_id) = 0;
    // A reader of the job's rows from its checkpoint (the byte offset and line number after the last row committed);
    // it touches the spool only once asked for rows, and throws spool_error when the upload is gone.
    virtual std::unique_ptr<spool_reader> open_job(const std::string& job_id, std::int64_t offset,
                                                   std::int64_t line) = 0;
    // Removes an ended job's upload if its end did not remove it already (files: the database spool goes in the
    // transaction that ends the job). Throws nothing.
    virtual void remove_job(const std::string& job_id) noexcept = 0;
    // At start, before any upload: removes what no unfinished job needs and no upload in progress (of any daemon)
    // is writing, and names the unfinished jobs whose upload is lost.
    virtual spool_recovery recover(const std::vector<std::string>& unfinished_jobs) = 0;
    // From time to time, on the spool thread: removes uploads whose writer died (its daemon killed) without a job;
    // returns how many.
    virtual std::int64_t sweep_abandoned() = 0;
};

} // namespace profiled
