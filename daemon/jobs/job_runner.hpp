// The job runner: works through queued bulk jobs chunk by chunk, fair across projects, at each project's row rate.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "common/profiles/profile.hpp"

namespace boost::asio {
class io_context;
}

namespace profiled {

struct server_context;

// Figures the runner keeps for STATUS= and /metrics.
struct runner_stats {
    std::uint64_t queued_jobs = 0;
    std::uint64_t running_jobs = 0;
    std::uint64_t rows_applied = 0;
    std::uint64_t rows_failed = 0;
};

class job_runner {
public:
    job_runner(boost::asio::io_context& io, server_context& ctx);
    ~job_runner();
    job_runner(const job_runner&) = delete;
    job_runner& operator=(const job_runner&) = delete;

    // Start-up recovery, before listening: removes .part and orphan spool files, fails jobs whose spool is lost,
    // and remembers every other unfinished job, to be claimed (and resumed from its checkpoint) once started.
    // Needs the writer running.
    void recover();
    // Starts working (coroutines on the io thread): claims jobs through the store, one per project at a time,
    // at start, when woken by add_job, and every third of a lease, and works through them chunk by chunk.
    void start();
    // Tells the runner a newly accepted job was committed, so it looks for work now; callable from any thread.
    void add_job(job_record job);
    // Takes no new chunk; the chunk in progress is committed by the writer or not at all.
    void stop();
    // Tells the runner a client asked to cancel the job (as the store has it after the request): a job held here ends
    // before its next chunk; one the request ended at once is forgotten. Callable from any thread.
    void cancel_requested(const job_record& job);
    // Applies new row rate settings to every project's bucket (SIGHUP).
    void set_rate(double rows_per_minute, double burst);
    // Jobs not finished for this project (io thread).
    std::uint64_t queued_jobs(std::int64_t project_id) const;
    // The project's job as last committed, while the runner works on it; nothing once it ended, or when this
    // daemon does not hold it (queued, or another daemon's: the store knows) (io thread).
    std::optional<job_record> find_active(std::int64_t project_id, const std::string& job_id) const;
    runner_stats stats() const;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

} // namespace profiled
