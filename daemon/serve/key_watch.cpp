#include "daemon/serve/key_watch.hpp"

#include "common/ops/log.hpp"
#include "common/ops/thread_roles.hpp"

namespace profiled {

namespace {

// The io thread's reader with key_version() answered from memory: the version the watch last read.
class watched_reader final : public store_reader {
public:
    watched_reader(store_reader& inner, const std::atomic<std::uint64_t>& version) : inner_(inner), version_(version) {}

    std::optional<api_key_record> find_key(const std::string& key_hash) override { return inner_.find_key(key_hash); }
    std::vector<api_key_record> list_keys() override { return inner_.list_keys(); }
    std::optional<user_profile> find_user(std::int64_t project_id, const std::string& user_id) override
    {
        return inner_.find_user(project_id, user_id);
    }
    std::optional<company_profile> find_company(std::int64_t project_id, const std::string& company_id) override
    {
        return inner_.find_company(project_id, company_id);
    }
    std::optional<job_record> find_job(std::int64_t project_id, const std::string& job_id) override
    {
        return inner_.find_job(project_id, job_id);
    }
    std::optional<job_record> find_job_by_idempotency_key(std::int64_t project_id, const std::string& key,
                                                          std::int64_t not_before) override
    {
        return inner_.find_job_by_idempotency_key(project_id, key, not_before);
    }
    std::optional<job_page> list_jobs(std::int64_t project_id, std::optional<job_status> status,
                                      const std::optional<std::string>& cursor, int limit) override
    {
        return inner_.list_jobs(project_id, status, cursor, limit);
    }
    std::optional<job_error_page> list_job_errors(const std::string& job_id, const std::optional<std::string>& cursor,
                                                  int limit) override
    {
        return inner_.list_job_errors(job_id, cursor, limit);
    }
    std::optional<user_page> list_users(std::int64_t project_id, const std::optional<std::string>& cursor,
                                        std::optional<std::int64_t> updated_since, int limit) override
    {
        return inner_.list_users(project_id, cursor, updated_since, limit);
    }
    std::optional<company_page> list_companies(std::int64_t project_id, const std::optional<std::string>& cursor,
                                               std::optional<std::int64_t> updated_since, int limit) override
    {
        return inner_.list_companies(project_id, cursor, updated_since, limit);
    }
    std::vector<job_record> unfinished_jobs() override { return inner_.unfinished_jobs(); }
    std::vector<job_record> list_all_jobs(int limit) override { return inner_.list_all_jobs(limit); }
    std::int64_t count_jobs(job_status status) override { return inner_.count_jobs(status); }
    std::vector<webhook_record> list_webhooks(std::int64_t project_id) override
    {
        return inner_.list_webhooks(project_id);
    }
    std::optional<webhook_record> find_webhook(std::int64_t project_id, const std::string& webhook_id) override
    {
        return inner_.find_webhook(project_id, webhook_id);
    }
    std::optional<delivery_attempt_page> list_delivery_attempts(std::int64_t project_id, const std::string& webhook_id,
                                                                const std::optional<std::string>& cursor,
                                                                int limit) override
    {
        return inner_.list_delivery_attempts(project_id, webhook_id, cursor, limit);
    }
    delivery_backlog webhook_backlog(std::int64_t now) override { return inner_.webhook_backlog(now); }
    job_backlog read_job_backlog() override { return inner_.read_job_backlog(); }
    std::optional<std::int64_t> database_bytes() override { return inner_.database_bytes(); }
    std::uint64_t key_version() override { return version_.load(std::memory_order_acquire); }

private:
    store_reader& inner_;
    const std::atomic<std::uint64_t>& version_;
};

} // namespace

key_watch::key_watch(store& db, store_health& health) : health_(health), reader_(db.open_reader())
{
    try {
        auto first = reader_->wait_key_version(std::chrono::milliseconds(0));
        if (!first) {
            reader_.reset(); // a local key version: nothing to watch
            return;
        }
        version_ = *first;
    } catch (const store_error& e) {
        // Unreachable right now: an engine to watch all the same; the thread finds it again.
        health_.failed(e);
    }
    thread_ = std::thread([this] { run(); });
}

key_watch::~key_watch() { stop(); }

store_reader& key_watch::reader_for_io(store_reader& io_reader)
{
    if (!reader_)
        return io_reader;
    if (!io_reader_)
        io_reader_ = std::make_unique<watched_reader>(io_reader, version_);
    return *io_reader_;
}

void key_watch::stop()
{
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable())
        thread_.join();
}

void key_watch::run()
{
    name_this_thread("profiled-keys");
    for (;;) {
        {
            std::lock_guard lock(mutex_);
            if (stopping_)
                return;
        }
        try {
            if (auto version = reader_->wait_key_version(poll_interval))
                version_.store(*version, std::memory_order_release);
            health_.reached();
            continue;
        } catch (const store_error& e) {
            health_.failed(e);
            if (e.kind() != store_failure::unavailable)
                log_event(log_level::error, "store.watch_failed", e.what());
        } catch (const std::exception& e) {
            log_event(log_level::error, "store.watch_failed", e.what());
        }
        // Failed at once (a server that refuses connections): wait before trying again.
        std::unique_lock lock(mutex_);
        wake_.wait_for(lock, poll_interval, [this] { return stopping_; });
    }
}

} // namespace profiled
