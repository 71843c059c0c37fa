// What cancelling a job means to every engine: the refusals it brings and the end it gets.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/api_error.hpp"
#include "common/store/store_operations.hpp"

namespace profiled {

// The error a cancelled job ends with.
inline constexpr const char* cancelled_job_error = "cancelled";

// The end of a cancelled job: failed with error "cancelled", at now; with an owner, only if it still holds the job.
finish_job cancelled_finish(const std::string& job_id, std::int64_t now, std::optional<std::string> owner = {},
                            std::optional<std::int64_t> processing_ms = {});
// The refusal of a cancel (409 job_finished) to a job that already ended.
api_error job_finished(const std::string& job_id, job_status status);
// The refusal of a lease owner's advance or renewal (job_cancelled) of a job a client asked to cancel.
api_error job_cancelled(const std::string& job_id);

} // namespace profiled
