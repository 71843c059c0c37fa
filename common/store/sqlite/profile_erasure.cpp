#include "common/store/sqlite/profile_erasure.hpp"

#include <set>
#include <string>

#include "common/store/sqlite/stored_rows.hpp"

namespace profiled {

namespace {

// Takes the ids out of the row errors of the project's jobs of this type: the errors stay (the jobs' counts still
// add up), without the id. The ids go through a temporary table, bound one by one, so any bytes are safe and
// job_errors is scanned once however many ids there are.
void redact_row_errors(sqlite_connection& db, std::int64_t project_id, const char* job_type,
                       const std::set<std::string>& ids)
{
    if (ids.empty())
        return;
    db.exec("CREATE TEMP TABLE IF NOT EXISTS erased_ids (id TEXT PRIMARY KEY) WITHOUT ROWID");
    for (const auto& id : ids)
        db.query("INSERT OR IGNORE INTO temp.erased_ids(id) VALUES (?)", id).run();
    db.query("UPDATE job_errors SET row_id = NULL WHERE row_id IN (SELECT id FROM temp.erased_ids) "
             "AND job_id IN (SELECT id FROM jobs WHERE project_id = ? AND type = ?)",
             project_id, job_type)
        .run();
    db.query("DELETE FROM temp.erased_ids").run();
}

} // namespace

std::int64_t erase_user_rows(sqlite_connection& db, const erase_users& erase)
{
    std::int64_t removed = 0;
    std::set<std::string> erased_ids;
    for (const auto& given : erase.user_ids) {
        std::string user_id = resolve_user_id(db, erase.project_id, given);
        erased_ids.insert(given);
        erased_ids.insert(user_id);
        {
            auto q = db.query("SELECT alias_id FROM aliases WHERE project_id = ? AND user_id = ?", erase.project_id,
                              user_id);
            while (q.step())
                erased_ids.insert(q.text(0));
        }
        // Aliases are flattened (every alias names a user id that is no alias itself), so these are all of them.
        db.query("DELETE FROM aliases WHERE project_id = ? AND user_id = ?", erase.project_id, user_id).run();
        db.query("DELETE FROM users WHERE project_id = ? AND user_id = ?", erase.project_id, user_id).run();
        removed += db.changes();
    }
    redact_row_errors(db, erase.project_id, "users", erased_ids);
    return removed;
}

std::int64_t erase_company_rows(sqlite_connection& db, const erase_companies& erase)
{
    std::int64_t removed = 0;
    std::set<std::string> erased_ids;
    for (const auto& company_id : erase.company_ids) {
        erased_ids.insert(company_id);
        db.query("DELETE FROM companies WHERE project_id = ? AND company_id = ?", erase.project_id, company_id).run();
        removed += db.changes();
    }
    redact_row_errors(db, erase.project_id, "companies", erased_ids);
    return removed;
}

} // namespace profiled
