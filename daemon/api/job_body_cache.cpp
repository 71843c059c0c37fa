#include "daemon/api/job_body_cache.hpp"

#include <boost/json/serialize.hpp>

#include "common/profiles/profile_json.hpp"

namespace profiled {

const std::string& job_body_cache::body_of(const job_record& job)
{
    auto it = by_job_id_.find(job.job_id);
    if (it != by_job_id_.end() && it->second.job == job)
        return it->second.body;
    if (it == by_job_id_.end()) {
        if (by_job_id_.size() >= max_jobs)
            by_job_id_.clear();
        it = by_job_id_.emplace(job.job_id, rendered{}).first;
    }
    it->second.job = job;
    it->second.body = boost::json::serialize(job_to_json(job));
    return it->second.body;
}

} // namespace profiled
