#include "common/store/file_spool.hpp"

#include "common/store/store.hpp"

#include <set>
#include <system_error>

namespace profiled {
namespace {

namespace fs = std::filesystem;

// One upload into spool/<job_id>.part; sealing fsyncs it and renames it to .ndjson.
class file_upload final : public upload_spool_writer {
public:
    file_upload(const fs::path& dir, const std::string& job_id) : file_(dir, job_id) {}

    void append(std::string_view data) override { file_.append(data); }
    std::optional<upload_piece> seal() override
    {
        file_.commit();
        return std::nullopt;
    }
    void discard() noexcept override { file_.discard(); }
    std::uint64_t size() const override { return file_.size(); }

private:
    spool_writer file_;
};

class file_spool final : public upload_spool {
public:
    explicit file_spool(fs::path dir) : dir_(std::move(dir)) {}

    std::unique_ptr<upload_spool_writer> begin_upload(const std::string& job_id) override
    {
        return std::make_unique<file_upload>(dir_, job_id);
    }

    std::unique_ptr<spool_reader> open_job(const std::string& job_id, std::int64_t offset, std::int64_t line) override
    {
        return std::make_unique<spool_reader>(spool_path(dir_, job_id), offset, line);
    }

    void remove_job(const std::string& job_id) noexcept override
    {
        std::error_code ec;
        fs::remove(spool_path(dir_, job_id), ec);
    }

    spool_recovery recover(const std::vector<std::string>& unfinished_jobs) override
    {
        spool_recovery found;
        std::set<std::string> wanted;
        for (const auto& id : unfinished_jobs)
            wanted.insert(id + ".ndjson");
        for (const auto& entry : fs::directory_iterator(dir_)) {
            if (wanted.count(entry.path().filename().string()))
                continue;
            // Half-received uploads (.part) and spool files of jobs that ended or were never recorded: one daemon
            // uses this directory, and it is starting.
            std::error_code ec;
            fs::remove(entry.path(), ec);
            ++found.removed;
        }
        for (const auto& id : unfinished_jobs) {
            if (!fs::exists(spool_path(dir_, id)))
                found.lost_jobs.push_back(id);
        }
        return found;
    }

    // A dead daemon's .part files go when the next one starts on the directory (recover).
    std::int64_t sweep_abandoned() override { return 0; }

private:
    fs::path dir_;
};

} // namespace

std::unique_ptr<upload_spool> open_file_spool(fs::path spool_dir)
{
    return std::make_unique<file_spool>(std::move(spool_dir));
}

std::unique_ptr<upload_spool> store::open_spool(const std::string& spool_dir) { return open_file_spool(spool_dir); }

} // namespace profiled
