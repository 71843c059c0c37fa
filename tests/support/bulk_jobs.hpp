// Bulk uploads and job polling shared by the bulk intake, job, recovery and import integration tests.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "tests/support/http_client.hpp"
#include "tests/support/test_daemon.hpp"

namespace profiled::test {

// The boundary the multipart helpers use.
inline const std::string test_boundary = "profiled-test-boundary-7f3a";

// A multipart/form-data body with one part named part_name holding content (curl -F "file=@FILE" shape).
std::string multipart_body(const std::string& content, const std::string& filename = "rows.ndjson",
                           const std::string& part_name = "file", const std::string& boundary = test_boundary);

// The "Content-Type: multipart/form-data; boundary=..." header of a multipart_body.
header_list multipart_headers(const std::string& boundary = test_boundary);

// POST /v1/{type}/bulk_identify with an NDJSON file as multipart, using the given key (the daemon's secret key when "").
http_reply upload_ndjson(const test_daemon& d, const std::string& type, const std::string& ndjson,
                         const std::string& key = "", header_list extra = {});

// POST /v1/{type}/bulk_identify with a JSON document body.
http_reply upload_json(const test_daemon& d, const std::string& type, const std::string& document,
                       const std::string& key = "", header_list extra = {});

// n NDJSON user rows "u<first+i>" with metadata {"n": first+i, "tag": tag}, one per line, each ending in a newline.
std::string user_rows(int n, int first = 0, const std::string& tag = "a");

// GET /v1/background_jobs/{job_id} with the given key (the secret key when ""); an empty object unless 200.
boost::json::object fetch_job(const test_daemon& d, const std::string& job_id, const std::string& key = "");

// Polls the job until it is done or failed (at most timeout_ms); the last job object seen.
boost::json::object wait_for_job_end(const test_daemon& d, const std::string& job_id, int timeout_ms = 30000,
                                     const std::string& key = "");

// Polls the job until it has processed at least rows rows (at most timeout_ms); its processed_rows then.
std::int64_t wait_for_processed(const test_daemon& d, const std::string& job_id, std::int64_t rows,
                                int timeout_ms = 30000);

// The names of the files in DIR/spool, sorted.
std::vector<std::string> spool_files(const test_daemon& d);

// An integer field of a JSON object (throws when absent or not a number).
std::int64_t int_field(const boost::json::object& o, const char* name);

// A string field of a JSON object, "" when absent or null.
std::string string_field(const boost::json::object& o, const char* name);

} // namespace profiled::test
