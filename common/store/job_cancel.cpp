#include "common/store/job_cancel.hpp"

namespace profiled {

finish_job cancelled_finish(const std::string& job_id, std::int64_t now, std::optional<std::string> owner,
                            std::optional<std::int64_t> processing_ms)
{
    return finish_job{job_id, job_status::failed, cancelled_job_error, now, std::move(owner), processing_ms};
}

api_error job_finished(const std::string& job_id, job_status status)
{
    return {errc::conflict,
            "job_finished",
            "job " + job_id + " already ended (" + to_string(status) +
                "); only a queued or running job can be cancelled",
            {}};
}

api_error job_cancelled(const std::string& job_id)
{
    return {errc::conflict, "job_cancelled", "job " + job_id + " was cancelled; it ends at this chunk boundary", {}};
}

} // namespace profiled
