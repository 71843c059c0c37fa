// The domain objects profiled stores: projects' keys, users, companies, jobs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

namespace profiled {

enum class key_kind { secret, public_key };

// The name of a key kind as shown and stored: "secret" or "public".
const char* key_kind_name(key_kind kind);

// An API key as stored: only its hash, never the key itself.
struct api_key_record {
    std::int64_t id = 0;
    std::int64_t project_id = 0;
    std::string project;
    key_kind kind = key_kind::secret;
    std::string prefix; // the first characters of the key, safe to show
    std::string key_hash;
    std::int64_t created_at = 0;
    std::optional<std::int64_t> revoked_at;
};

// A user profile as stored and shown.
struct user_profile {
    std::string user_id;   // the client's id
    std::string id;        // internal, "usr_" + 16 base62
    std::optional<std::string> email;
    std::optional<std::string> phone;
    std::optional<std::string> company_id;
    boost::json::object properties;
    boost::json::object origin;
    std::vector<std::string> aliases;
    std::int64_t created_at = 0;
    std::int64_t updated_at = 0;
};

// A company profile as stored and shown.
struct company_profile {
    std::string company_id;
    boost::json::object properties;
    std::int64_t created_at = 0;
    std::int64_t updated_at = 0;
};

// A change to one user: fields given overwrite, fields absent stay as they are.
struct user_change {
    std::string user_id;
    std::optional<std::string> email;
    std::optional<std::string> phone;
    std::optional<std::string> company_id;
    boost::json::object properties;
    boost::json::object origin;
};

// A change to one company: properties given overwrite, the rest stay.
struct company_change {
    std::string company_id;
    boost::json::object properties;
};

// A user change as the store binds it: properties and origin already JSON text, so the change is serialized
// once, where it was parsed, and merged into the stored profile inside the database.
struct user_upsert {
    std::string user_id; // as the client sent it; the store follows an alias
    std::optional<std::string> email;
    std::optional<std::string> phone;
    std::optional<std::string> company_id;
    std::string properties = "{}";
    std::string origin = "{}";
};

// A company change as the store binds it.
struct company_upsert {
    std::string company_id;
    std::string properties = "{}";
};

// What one user upsert did, for the Users API's "created" vs "updated" answer.
struct upsert_outcome {
    bool created = false;
    std::string public_id;
};

// The change in the form the store binds.
user_upsert to_upsert(const user_change& change);
// The change in the form the store binds.
company_upsert to_upsert(const company_change& change);

// Where a bulk job is in its life.
enum class job_status { queued, running, done, failed };

// What a bulk job's rows are.
enum class job_type { users, companies };

// The name of a job status as shown and stored: "queued", "running", "done" or "failed".
const char* to_string(job_status status);
// The job status a name gives, or nothing when it names none.
std::optional<job_status> parse_job_status(std::string_view name);
// The name of a job type as shown and stored: "users" or "companies".
const char* to_string(job_type type);
// The job type a name gives, or nothing when it names none.
std::optional<job_type> parse_job_type(std::string_view name);

// A bulk job as stored.
struct job_record {
    std::string job_id;
    std::int64_t project_id = 0;
    job_type type = job_type::users;
    job_status status = job_status::queued;
    std::string filename;
    std::int64_t file_size = 0;
    std::int64_t total_rows = 0;
    std::int64_t processed_rows = 0;
    std::int64_t failed_rows = 0;
    std::int64_t checkpoint_offset = 0; // byte offset of the next unread row in the spool file
    std::int64_t checkpoint_line = 0;   // physical line number of the last consumed line
    std::optional<std::string> error;
    std::optional<std::string> idempotency_key;
    std::int64_t submitted_at = 0;
    std::optional<std::int64_t> started_at;
    std::optional<std::int64_t> finished_at;
    std::int64_t processing_ms = 0;                  // processing time summed over every daemon run that worked on it
    std::optional<std::int64_t> cancel_requested_at; // when a client asked to cancel it (the first request)

    // Field by field: the same job in the same state.
    friend bool operator==(const job_record&, const job_record&) = default;
};

// One row of a bulk job that could not be applied.
struct job_row_error {
    std::int64_t line = 0;
    std::string row_id;
    std::string field;
    std::string message;
};

} // namespace profiled
