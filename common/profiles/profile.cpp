#include "common/profiles/profile.hpp"

#include <boost/json/serialize.hpp>

namespace profiled {

const char* key_kind_name(key_kind kind) { return kind == key_kind::public_key ? "public" : "secret"; }

const char* to_string(job_status status)
{
    switch (status) {
    case job_status::queued: return "queued";
    case job_status::running: return "running";
    case job_status::done: return "done";
    case job_status::failed: return "failed";
    }
    return "failed";
}

std::optional<job_status> parse_job_status(std::string_view name)
{
    for (auto status : {job_status::queued, job_status::running, job_status::done, job_status::failed})
        if (name == to_string(status))
            return status;
    return std::nullopt;
}

const char* to_string(job_type type) { return type == job_type::companies ? "companies" : "users"; }

std::optional<job_type> parse_job_type(std::string_view name)
{
    for (auto type : {job_type::users, job_type::companies})
        if (name == to_string(type))
            return type;
    return std::nullopt;
}

user_upsert to_upsert(const user_change& change)
{
    return {change.user_id,
            change.email,
            change.phone,
            change.company_id,
            boost::json::serialize(change.properties),
            boost::json::serialize(change.origin)};
}

company_upsert to_upsert(const company_change& change)
{
    return {change.company_id, boost::json::serialize(change.properties)};
}

} // namespace profiled
