#include "tests/support/bulk_jobs.hpp"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <thread>

namespace profiled::test {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {
// The headers of a call made with key, or with the daemon's own secret key when key is "".
http_reply call_with_key(const test_daemon& d, const std::string& method, const std::string& target,
                         const std::string& body, header_list headers, const std::string& key)
{
    if (key.empty())
        return d.call(method, target, body, std::move(headers));
    headers.emplace_back("Authorization", "Token " + key);
    return http_call(d.port(), method, target, body, headers);
}
} // namespace

// A multipart/form-data body with one part.
std::string multipart_body(const std::string& content, const std::string& filename, const std::string& part_name,
                           const std::string& boundary)
{
    return "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + part_name + "\"; filename=\"" +
           filename + "\"\r\nContent-Type: application/octet-stream\r\n\r\n" + content + "\r\n--" + boundary +
           "--\r\n";
}

// The multipart Content-Type header.
header_list multipart_headers(const std::string& boundary)
{
    return {{"Content-Type", "multipart/form-data; boundary=" + boundary}};
}

// An NDJSON file uploaded as multipart.
http_reply upload_ndjson(const test_daemon& d, const std::string& type, const std::string& ndjson,
                         const std::string& key, header_list extra)
{
    header_list headers = multipart_headers();
    headers.insert(headers.end(), extra.begin(), extra.end());
    return call_with_key(d, "POST", "/v1/" + type + "/bulk_identify", multipart_body(ndjson), headers, key);
}

// A JSON document upload.
http_reply upload_json(const test_daemon& d, const std::string& type, const std::string& document,
                       const std::string& key, header_list extra)
{
    extra.emplace_back("Content-Type", "application/json");
    return call_with_key(d, "POST", "/v1/" + type + "/bulk_identify", document, extra, key);
}

// n NDJSON user rows.
std::string user_rows(int n, int first, const std::string& tag)
{
    std::string out;
    for (int i = first; i < first + n; ++i)
        out += "{\"user_id\":\"u" + std::to_string(i) + "\",\"metadata\":{\"n\":" + std::to_string(i) +
               ",\"tag\":\"" + tag + "\"}}\n";
    return out;
}

// GET /v1/background_jobs/{job_id}.
boost::json::object fetch_job(const test_daemon& d, const std::string& job_id, const std::string& key)
{
    auto r = call_with_key(d, "GET", "/v1/background_jobs/" + job_id, "", {}, key);
    if (r.status != 200)
        return {};
    return r.json().as_object();
}

// Polls until the job ends.
boost::json::object wait_for_job_end(const test_daemon& d, const std::string& job_id, int timeout_ms,
                                     const std::string& key)
{
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    boost::json::object job;
    do {
        job = fetch_job(d, job_id, key);
        std::string status = string_field(job, "status");
        if (status == "done" || status == "failed")
            return job;
        std::this_thread::sleep_for(20ms);
    } while (std::chrono::steady_clock::now() < deadline);
    return job;
}

std::int64_t wait_for_processed(const test_daemon& d, const std::string& job_id, std::int64_t rows, int timeout_ms)
{
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    std::int64_t processed = 0;
    do {
        processed = int_field(fetch_job(d, job_id), "processed_rows");
        if (processed >= rows)
            break;
        std::this_thread::sleep_for(10ms);
    } while (std::chrono::steady_clock::now() < deadline);
    return processed;
}

// The files in DIR/spool.
std::vector<std::string> spool_files(const test_daemon& d)
{
    std::vector<std::string> names;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(fs::path(d.data_dir()) / "spool", ec))
        names.push_back(entry.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
}

// An integer field.
std::int64_t int_field(const boost::json::object& o, const char* name) { return o.at(name).to_number<std::int64_t>(); }

// A string field, "" when absent or null.
std::string string_field(const boost::json::object& o, const char* name)
{
    auto* v = o.if_contains(name);
    return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

} // namespace profiled::test
