#include "common/profiles/profile_json.hpp"

#include <boost/json/value.hpp>

#include "common/ops/clock.hpp"

namespace profiled {
namespace json = boost::json;

namespace {
// A nullable string as JSON.
json::value optional_string(const std::optional<std::string>& s) { return s ? json::value(*s) : json::value(nullptr); }
// A nullable time as RFC 3339 or null.
json::value optional_time(const std::optional<std::int64_t>& t)
{
    return t ? json::value(format_rfc3339(*t)) : json::value(nullptr);
}
} // namespace

json::object user_to_json(const user_profile& u)
{
    json::array aliases;
    for (const auto& a : u.aliases)
        aliases.emplace_back(a);
    return {
        {"user_id", u.user_id},
        {"id", u.id},
        {"email", optional_string(u.email)},
        {"phone", optional_string(u.phone)},
        {"company_id", optional_string(u.company_id)},
        {"properties", u.properties},
        {"origin", u.origin},
        {"aliases", std::move(aliases)},
        {"created_at", format_rfc3339(u.created_at)},
        {"updated_at", format_rfc3339(u.updated_at)},
    };
}

json::object company_to_json(const company_profile& c)
{
    return {
        {"company_id", c.company_id},
        {"properties", c.properties},
        {"created_at", format_rfc3339(c.created_at)},
        {"updated_at", format_rfc3339(c.updated_at)},
    };
}

json::object job_to_json(const job_record& j)
{
    return {
        {"job_id", j.job_id},
        {"type", to_string(j.type)},
        {"status", to_string(j.status)},
        {"submitted_at", format_rfc3339(j.submitted_at)},
        {"started_at", optional_time(j.started_at)},
        {"finished_at", optional_time(j.finished_at)},
        {"filename", j.filename.empty() ? json::value(nullptr) : json::value(j.filename)},
        {"file_size", j.file_size},
        {"total_rows", j.total_rows},
        {"processed_rows", j.processed_rows},
        {"failed_rows", j.failed_rows},
        {"error", optional_string(j.error)},
        {"duration_seconds", static_cast<double>(j.processing_ms) / 1000.0},
        {"cancelled_at", optional_time(j.cancel_requested_at)},
        {"links", json::object{{"self", "/v1/background_jobs/" + j.job_id},
                               {"errors", "/v1/background_jobs/" + j.job_id + "/errors"}}},
    };
}

json::object job_error_to_json(const job_row_error& e)
{
    return {
        {"line", e.line},
        {"user_id", e.row_id.empty() ? json::value(nullptr) : json::value(e.row_id)},
        {"field", e.field.empty() ? json::value(nullptr) : json::value(e.field)},
        {"message", e.message},
    };
}

} // namespace profiled
