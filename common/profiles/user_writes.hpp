// The write steps shared by every dialect and by bulk jobs: upsert a user, upsert a company.
#pragma once

#include <cstdint>

#include "common/profiles/profile.hpp"
#include "common/store/store.hpp"

namespace profiled {

// Merges change into the user it resolves to (following aliases), creating the user when new.
upsert_outcome upsert_user(store_writer& w, std::int64_t project_id, const user_change& change, std::int64_t now);
// Merges change into the company, creating it when new.
void upsert_company(store_writer& w, std::int64_t project_id, const company_change& change, std::int64_t now);

} // namespace profiled
