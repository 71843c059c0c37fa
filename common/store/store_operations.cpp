#include "common/store/store_operations.hpp"

#include <algorithm>

namespace profiled {

bool is_refusable(const store_operation& op)
{
    if (const auto* finish = std::get_if<finish_job>(&op))
        return finish->owner.has_value();
    return std::holds_alternative<update_people>(op) || std::holds_alternative<alias_user>(op) ||
           std::holds_alternative<insert_job>(op) || std::holds_alternative<advance_job>(op) ||
           std::holds_alternative<renew_job_lease>(op) || std::holds_alternative<cancel_job>(op) ||
           std::holds_alternative<create_webhook>(op) || std::holds_alternative<record_delivery_attempt>(op);
}

bool holds_job_chunk(const std::vector<store_operation>& ops)
{
    return std::any_of(ops.begin(), ops.end(),
                       [](const store_operation& op) { return std::holds_alternative<advance_job>(op); });
}

} // namespace profiled
