// A store reader for unit tests about API keys: every query but the key lookup answers "nothing".
#pragma once

#include "common/store/store.hpp"

namespace profiled::test {

class keys_only_reader : public store_reader {
public:
    std::vector<api_key_record> list_keys() override { return {}; }
    std::optional<user_profile> find_user(std::int64_t, const std::string&) override { return {}; }
    std::optional<company_profile> find_company(std::int64_t, const std::string&) override { return {}; }
    std::optional<job_record> find_job(std::int64_t, const std::string&) override { return {}; }
    std::optional<job_record> find_job_by_idempotency_key(std::int64_t, const std::string&, std::int64_t) override
    {
        return {};
    }
    std::optional<job_page> list_jobs(std::int64_t, std::optional<job_status>, const std::optional<std::string>&,
                                      int) override
    {
        return {};
    }
    std::optional<job_error_page> list_job_errors(const std::string&, const std::optional<std::string>&, int) override
    {
        return {};
    }
    std::optional<user_page> list_users(std::int64_t, const std::optional<std::string>&, std::optional<std::int64_t>,
                                        int) override
    {
        return {};
    }
    std::optional<company_page> list_companies(std::int64_t, const std::optional<std::string>&,
                                               std::optional<std::int64_t>, int) override
    {
        return {};
    }
    std::vector<job_record> unfinished_jobs() override { return {}; }
    std::vector<job_record> list_all_jobs(int) override { return {}; }
    std::int64_t count_jobs(job_status) override { return 0; }
    std::vector<webhook_record> list_webhooks(std::int64_t) override { return {}; }
    std::optional<webhook_record> find_webhook(std::int64_t, const std::string&) override { return {}; }
    std::optional<delivery_attempt_page> list_delivery_attempts(std::int64_t, const std::string&,
                                                                const std::optional<std::string>&, int) override
    {
        return {};
    }
    delivery_backlog webhook_backlog(std::int64_t) override { return {}; }
    job_backlog read_job_backlog() override { return {}; }
    std::optional<std::int64_t> database_bytes() override { return std::nullopt; }
    std::uint64_t key_version() override { return 0; }
};

} // namespace profiled::test
