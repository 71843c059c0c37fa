#include "common/store/sqlite/sqlite_snapshot.hpp"

#include "common/store/sqlite/profile_pages.hpp"
#include "common/store/sqlite/sqlite.hpp"

namespace profiled {
namespace {

class sqlite_snapshot final : public profile_snapshot {
public:
    sqlite_snapshot(const std::string& path, std::int64_t project_id, std::optional<std::int64_t> updated_since)
        : db_(path, true), project_id_(project_id), updated_since_(updated_since)
    {
        db_.exec("BEGIN");
        // A deferred transaction takes its snapshot at its first read: take it now, before the export answers.
        db_.query("SELECT count(*) FROM projects WHERE id = ?", project_id_).step();
    }

    ~sqlite_snapshot() override
    {
        try {
            db_.exec("ROLLBACK");
        } catch (...) {
            // Closing the connection ends the transaction anyway.
        }
    }

    std::vector<user_profile> next_users(int limit) override
    {
        auto rows = read_users_after(db_, project_id_, after_, updated_since_, limit);
        if (!rows.ids.empty())
            after_ = rows.ids.back();
        return std::move(rows.users);
    }

    std::vector<company_profile> next_companies(int limit) override
    {
        auto rows = read_companies_after(db_, project_id_, after_, updated_since_, limit);
        if (!rows.ids.empty())
            after_ = rows.ids.back();
        return std::move(rows.companies);
    }

private:
    sqlite_connection db_;
    std::int64_t project_id_;
    std::optional<std::int64_t> updated_since_;
    std::int64_t after_ = 0; // the internal id of the last row read
};

} // namespace

std::unique_ptr<profile_snapshot> open_sqlite_snapshot(const std::string& path, std::int64_t project_id,
                                                       std::optional<std::int64_t> updated_since)
{
    return std::make_unique<sqlite_snapshot>(path, project_id, updated_since);
}

} // namespace profiled
