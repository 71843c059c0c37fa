#include "common/profiles/user_writes.hpp"

namespace profiled {

upsert_outcome upsert_user(store_writer& w, std::int64_t project_id, const user_change& change, std::int64_t now)
{
    std::vector<upsert_outcome> outcome;
    w.upsert_users(project_id, {to_upsert(change)}, now, &outcome);
    return outcome.front();
}

void upsert_company(store_writer& w, std::int64_t project_id, const company_change& change, std::int64_t now)
{
    w.upsert_companies(project_id, {to_upsert(change)}, now);
}

} // namespace profiled
