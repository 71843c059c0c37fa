// The JSON bodies of the jobs clients poll while they run, kept as sent: a poll of a job that has not changed since
// the poll before it sends the same bytes without rendering the job again.
#pragma once

#include <string>
#include <unordered_map>

#include "common/profiles/profile.hpp"

namespace profiled {

class job_body_cache {
public:
    // The body of GET /v1/background_jobs/{job_id} for this state of the job: the one rendered before when the job
    // is unchanged, else rendered now and kept in its place.
    const std::string& body_of(const job_record& job);
    // How many jobs' bodies are kept.
    std::size_t size() const { return by_job_id_.size(); }

private:
    struct rendered {
        job_record job;
        std::string body;
    };
    // About as many jobs as run at once on one daemon, with room to spare: past it the cache starts again.
    static constexpr std::size_t max_jobs = 1024;
    std::unordered_map<std::string, rendered> by_job_id_;
};

} // namespace profiled
