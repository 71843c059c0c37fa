#include "common/store/postgres/postgres_snapshot.hpp"

#include "common/store/postgres/postgres.hpp"
#include "common/store/postgres/profile_pages.hpp"

namespace profiled {
namespace {

// Keyset pages inside one transaction: each page's statement sees the snapshot its first statement took.
class postgres_snapshot final : public profile_snapshot {
public:
    postgres_snapshot(const std::string& url, std::int64_t project_id, std::optional<std::int64_t> updated_since)
        : db_(url), project_id_(project_id), updated_since_(updated_since)
    {
        db_.exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
        // The snapshot is taken by the first statement: now, before the export answers.
        db_.query("SELECT 1 FROM projects WHERE id = $1", project_id_);
    }

    ~postgres_snapshot() override
    {
        try {
            if (!db_.lost())
                db_.exec("ROLLBACK");
        } catch (...) {
            // Closing the connection ends the transaction anyway.
        }
    }

    std::vector<user_profile> next_users(int limit) override
    {
        auto rows = pg_read_users_after(db_, project_id_, after_, updated_since_, limit);
        if (!rows.ids.empty())
            after_ = rows.ids.back();
        return std::move(rows.users);
    }

    std::vector<company_profile> next_companies(int limit) override
    {
        auto rows = pg_read_companies_after(db_, project_id_, after_, updated_since_, limit);
        if (!rows.ids.empty())
            after_ = rows.ids.back();
        return std::move(rows.companies);
    }

private:
    pg_connection db_;
    std::int64_t project_id_;
    std::optional<std::int64_t> updated_since_;
    std::int64_t after_ = 0; // the internal id of the last row read
};

} // namespace

std::unique_ptr<profile_snapshot> open_postgres_snapshot(const std::string& url, std::int64_t project_id,
                                                         std::optional<std::int64_t> updated_since)
{
    return std::make_unique<postgres_snapshot>(url, project_id, updated_since);
}

} // namespace profiled
