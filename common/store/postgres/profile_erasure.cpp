#include "common/store/postgres/profile_erasure.hpp"

#include <string>
#include <vector>

namespace profiled {

namespace {

// The ids as one text[] parameter.
std::string id_array(const std::vector<std::string>& ids)
{
    std::vector<pg_param> params(ids.begin(), ids.end());
    return array_literal(params);
}

} // namespace

std::int64_t pg_erase_users(pg_connection& db, const erase_users& erase)
{
    // Every part of a statement sees the same snapshot: the aliases read to resolve the ids are the ones deleted.
    // Aliases are flattened (each names a user id that is no alias itself), so those naming the resolved ids are
    // all of them. Row errors keep their line, field and message; only the id goes.
    static const std::string sql =
        "WITH given AS (SELECT DISTINCT id FROM unnest($2::text[]) AS g(id)), "
        "resolved AS (SELECT DISTINCT coalesce(a.user_id, g.id) AS user_id FROM given g "
        "LEFT JOIN aliases a ON a.project_id = $1 AND a.alias_id = g.id), "
        "gone_aliases AS (DELETE FROM aliases a USING resolved r WHERE a.project_id = $1 AND a.user_id = r.user_id "
        "RETURNING a.alias_id), "
        "gone_users AS (DELETE FROM users u USING resolved r WHERE u.project_id = $1 AND u.user_id = r.user_id "
        "RETURNING u.id), "
        "redacted AS (UPDATE job_errors e SET row_id = NULL FROM jobs j WHERE j.id = e.job_id AND j.project_id = $1 "
        "AND j.type = 'users' AND e.row_id IN (SELECT id FROM given UNION SELECT user_id FROM resolved "
        "UNION SELECT alias_id FROM gone_aliases) RETURNING 1) "
        "SELECT (SELECT count(*) FROM gone_users), (SELECT count(*) FROM redacted)";
    if (erase.user_ids.empty())
        return 0;
    return db.query(sql, erase.project_id, id_array(erase.user_ids)).int64(0, 0);
}

std::int64_t pg_erase_companies(pg_connection& db, const erase_companies& erase)
{
    static const std::string sql =
        "WITH given AS (SELECT DISTINCT id FROM unnest($2::text[]) AS g(id)), "
        "gone AS (DELETE FROM companies c USING given g WHERE c.project_id = $1 AND c.company_id = g.id "
        "RETURNING c.id), "
        "redacted AS (UPDATE job_errors e SET row_id = NULL FROM jobs j WHERE j.id = e.job_id AND j.project_id = $1 "
        "AND j.type = 'companies' AND e.row_id IN (SELECT id FROM given) RETURNING 1) "
        "SELECT (SELECT count(*) FROM gone), (SELECT count(*) FROM redacted)";
    if (erase.company_ids.empty())
        return 0;
    return db.query(sql, erase.project_id, id_array(erase.company_ids)).int64(0, 0);
}

} // namespace profiled
