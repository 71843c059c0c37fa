#include "common/store/webhook_records.hpp"

namespace profiled {

std::string_view to_string(delivery_state s)
{
    switch (s) {
    case delivery_state::delivered: return "delivered";
    case delivery_state::failed: return "failed";
    case delivery_state::pending: break;
    }
    return "pending";
}

delivery_state parse_delivery_state(std::string_view text)
{
    if (text == "delivered")
        return delivery_state::delivered;
    if (text == "failed")
        return delivery_state::failed;
    return delivery_state::pending;
}

std::string_view job_event_name(job_status status) { return status == job_status::failed ? "job.failed" : "job.done"; }

} // namespace profiled
