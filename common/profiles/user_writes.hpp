// The write operations shared by every dialect and by bulk jobs: upsert a user, upsert a company.
#pragma once

#include <cstdint>

#include "common/profiles/profile.hpp"
#include "common/store/store_operations.hpp"

namespace profiled {

// The operation merging change into the user it resolves to (following aliases), creating the user when new;
// with report_outcome its outcome says whether the user was created, and its internal id.
upsert_users upsert_user(std::int64_t project_id, const user_change& change, std::int64_t now,
                         bool report_outcome = false);
// The operation merging change into the company, creating it when new.
upsert_companies upsert_company(std::int64_t project_id, const company_change& change, std::int64_t now);

} // namespace profiled
