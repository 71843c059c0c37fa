#include "common/profiles/user_writes.hpp"

namespace profiled {

upsert_users upsert_user(std::int64_t project_id, const user_change& change, std::int64_t now, bool report_outcome)
{
    return {project_id, {to_upsert(change)}, now, report_outcome};
}

upsert_companies upsert_company(std::int64_t project_id, const company_change& change, std::int64_t now)
{
    return {project_id, {to_upsert(change)}, now};
}

} // namespace profiled
