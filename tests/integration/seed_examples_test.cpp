// Every request example of the seed documents (../shared/seeds/), sent as written apart from host and key,
// gets the documented success response, and the profile it produced reads back through GET /v1/users/{id}.
// The bulk examples are asynchronous: their job is polled until it ends before the profiles are read.
// identify-overview.txt documents the same POST /v1/identify with the same header table; its "Example" section
// holds no body of its own, so its request is identify-and-bulk-api.txt's, sent with the headers both list.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include <boost/json/parse.hpp>
#include <catch2/catch.hpp>

#include "tests/support/api_checks.hpp"
#include "tests/support/bulk_jobs.hpp"
#include "tests/support/test_daemon.hpp"

using namespace profiled::test;
namespace json = boost::json;

namespace {

// Replaces every occurrence of placeholder in text with value.
std::string with_key(std::string text, const std::string& placeholder, const std::string& value)
{
    for (auto at = text.find(placeholder); at != std::string::npos; at = text.find(placeholder, at + value.size()))
        text.replace(at, placeholder.size(), value);
    return text;
}

// identify-and-bulk-api.txt, "Individual Identify": the example body as printed.
const std::string identify_example = R"({
  "user_id": "user_001",
  "metadata": {
    "name": "Jane Doe",
    "email": "jane@example.com"
  },
  "company": {
    "id": "company_001"
  }
})";

// people-api.txt, "Identify / Set User Properties": the cURL -d body.
const std::string people_identify_example = R"({
    "apiKey": "YOUR_PUBLIC_API_KEY",
    "distinct_id": "user_123",
    "properties": {
      "$name": "John Doe",
      "$email": "test@test.com",
      "plan": "pro"
    }
  })";

// people-api.txt, "Advanced Profile Operations": the request example.
const std::string people_set_example = R"({
  "apiKey": "YOUR_SECRET_KEY",
  "distinct_id": "user_123",
  "operations": {
    "$set": {
      "last_login": "2023-10-27"
    },
    "$add": {
      "login_count": 1
    }
  }
})";

// people-api.txt, "Alias Identity": the request example.
const std::string people_alias_example = R"({
  "apiKey": "YOUR_SECRET_KEY",
  "alias_id": "user_123",
  "original_id": "anon_456"
})";

// users-api.txt: the request body and the cURL -d body (the same JSON, without indentation).
const std::string users_example = R"({
"user_id": "user_123",
"email": "user@example.com",
"phone": "+1234567890",
"properties": {
"name": "John Doe",
"plan": "premium",
"signup_date": "2023-06-15"
},
"origin": {
"channel": "ios-app",
"campaign": "spring-launch",
"label": "Onboarding Flow"
}
})";

// users-api.txt: what the JavaScript (JSON.stringify) and Python (json=) examples put on the wire.
const std::string users_js_example =
    R"({"user_id":"user_123","email":"user@example.com","phone":"+1234567890","properties":{"name":"John Doe",)"
    R"("plan":"premium","signup_date":"2023-06-15"},"origin":{"channel":"ios-app","campaign":"spring-launch"}})";
const std::string users_python_example =
    R"({"user_id": "user_123", "email": "user@example.com", "phone": "+1234567890", "properties": {"name": "John Doe", )"
    R"("plan": "premium", "signup_date": "2023-06-15"}, "origin": {"channel": "ios-app", "campaign": "spring-launch"}})";

// identify-and-bulk-api.txt, "Bulk Identify: JSON Payload": the request body as printed.
const std::string bulk_json_example = R"({
  "users": [
    {
      "user_id": "user_001",
      "company_id": "comp001",
      "metadata": {
        "last_ticket_created": "2025-02-01T10:20:30Z",
        "tickets_created": "15",
        "tickets_resolved": "14",
        "tickets_pending": "1",
        "avg_resolution_time": "2h",
        "customer_satisfaction": "4.8",
        "escalation_count": "1"
      }
    },
    {
      "user_id": "user_002",
      "company_id": "comp002",
      "metadata": {
        "last_ticket_created": "2025-01-31T09:15:00Z",
        "tickets_created": "8",
        "tickets_resolved": "7",
        "tickets_pending": "1",
        "avg_resolution_time": "3h",
        "customer_satisfaction": "4.5",
        "escalation_count": "0"
      }
    }
  ]
})";

// "Bulk Identify: File Upload (NDJSON)" names a file but prints none: the JSON example's two users, one per line.
const std::string bulk_ndjson_file =
    R"({"user_id": "user_001", "company_id": "comp001", "metadata": {"last_ticket_created": "2025-02-01T10:20:30Z", )"
    R"("tickets_created": "15", "tickets_resolved": "14", "tickets_pending": "1", "avg_resolution_time": "2h", )"
    R"("customer_satisfaction": "4.8", "escalation_count": "1"}})"
    "\n"
    R"({"user_id": "user_002", "company_id": "comp002", "metadata": {"last_ticket_created": "2025-01-31T09:15:00Z", )"
    R"("tickets_created": "8", "tickets_resolved": "7", "tickets_pending": "1", "avg_resolution_time": "3h", )"
    R"("customer_satisfaction": "4.5", "escalation_count": "0"}})"
    "\n";

// What `curl -H "Content-Type: multipart/form-data" -F "file=@/path/to/your/file.ndjson"` puts on the wire:
// curl keeps the given media type, appends its own boundary, and sends the file as application/octet-stream.
const std::string curl_boundary = "------------------------d74496d66958873e";
std::string curl_form_body(const std::string& file_content)
{
    return "--" + curl_boundary +
           "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"file.ndjson\"\r\n"
           "Content-Type: application/octet-stream\r\n\r\n" +
           file_content + "\r\n--" + curl_boundary + "--\r\n";
}

// The bulk documents' header table: Content-Type (given per example), Accept and the Token key.
header_list bulk_headers(const test_daemon& d, const std::string& content_type)
{
    return {{"Content-Type", content_type},
            {"Accept", "application/json, text/plain, */*"},
            {"Authorization", "Token " + d.secret_key()}};
}

// Checks a 202 against the documented job object, polls the job to its end and checks both users read back.
void check_bulk_example(const test_daemon& d, const http_reply& r)
{
    INFO(r.body);
    REQUIRE(r.status == 202);
    auto job = r.json().as_object();
    // The documented fields: job_id, status "queued", submitted_at (RFC 3339 UTC).
    REQUIRE(job.at("job_id").is_string());
    CHECK(job.at("status") == "queued");
    REQUIRE(job.at("submitted_at").is_string());
    std::string submitted(job.at("submitted_at").as_string());
    CHECK(submitted.size() >= 20);
    CHECK(submitted.back() == 'Z');
    CHECK(submitted[10] == 'T');

    auto done = wait_for_job_end(d, std::string(job.at("job_id").as_string()));
    REQUIRE(string_field(done, "status") == "done");
    CHECK(int_field(done, "total_rows") == 2);
    CHECK(int_field(done, "processed_rows") == 2);
    CHECK(int_field(done, "failed_rows") == 0);

    auto first = get_user(d, "user_001");
    REQUIRE_FALSE(first.empty());
    CHECK(first.at("company_id") == "comp001");
    CHECK(first.at("properties") ==
          json::parse(R"({"last_ticket_created":"2025-02-01T10:20:30Z","tickets_created":"15","tickets_resolved":"14",)"
                      R"("tickets_pending":"1","avg_resolution_time":"2h","customer_satisfaction":"4.8",)"
                      R"("escalation_count":"1"})"));
    auto second = get_user(d, "user_002");
    REQUIRE_FALSE(second.empty());
    CHECK(second.at("company_id") == "comp002");
    CHECK(second.at("properties").at("tickets_created") == "8");
    CHECK(second.at("properties").at("escalation_count") == "0");
}

// The documents' cURL commands as printed, line continuations and all.
const std::string people_identify_curl = R"(curl -X POST "https://api.empmix.com/public/identify" \
  -H "Content-Type: application/json" \
  -d '{
    "apiKey": "YOUR_PUBLIC_API_KEY",
    "distinct_id": "user_123",
    "properties": {
      "$name": "John Doe",
      "$email": "test@test.com",
      "plan": "pro"
    }
  }')";
const std::string users_curl = R"(curl -X POST https://api.appizer.com/v1/users \
-H "Authorization: Bearer YOUR_API_KEY" \
-H "Content-Type: application/json" \
-d '{
"user_id": "user_123",
"email": "user@example.com",
"phone": "+1234567890",
"properties": {
"name": "John Doe",
"plan": "premium",
"signup_date": "2023-06-15"
},
"origin": {
"channel": "ios-app",
"campaign": "spring-launch"
}
}')";
const std::string bulk_curl = R"(curl -X POST "https://analytex.userpilot.io/v1/users/bulk_identify" \
     -H "Authorization: Token {YOUR_API_KEY}" \
     -H "Content-Type: multipart/form-data" \
     -F "file=@/path/to/your/file.ndjson")";

// What a shell command printed on stdout.
std::string shell_output(const std::string& command)
{
    std::string out;
    if (FILE* pipe = ::popen(command.c_str(), "r")) {
        char buffer[4096];
        while (std::size_t n = std::fread(buffer, 1, sizeof buffer, pipe))
            out.append(buffer, n);
        ::pclose(pipe);
    }
    return out;
}

// Runs a document's cURL command against the daemon (its host, key and file path replaced) and returns
// {status, body}; curl is told only to be quiet and to print the status after the body.
std::pair<int, std::string> run_curl(const test_daemon& d, std::string command, const std::string& host,
                                     const std::string& key_placeholder, const std::string& key)
{
    command = with_key(std::move(command), host, "http://127.0.0.1:" + std::to_string(d.port()));
    command = with_key(std::move(command), key_placeholder, key);
    command += " -sS -w '\\n%{http_code}'";
    std::string out = shell_output(command);
    auto newline = out.rfind('\n');
    if (newline == std::string::npos)
        return {0, out};
    return {std::atoi(out.c_str() + newline + 1), out.substr(0, newline)};
}

// POST with the headers a seed document lists.
http_reply post(const test_daemon& d, const std::string& path, const std::string& body, header_list headers)
{
    headers.emplace_back("Content-Type", "application/json");
    return http_call(d.port(), "POST", path, body, headers);
}

} // namespace

TEST_CASE("the identify documents' example gets 202 and the profile reads back", "[seeds][identify][integration]")
{
    test_daemon d;
    auto r = post(d, "/v1/identify", identify_example,
                  {{"Authorization", "Token " + d.secret_key()}, {"X-API-Version", "2020-09-22"}});
    CHECK(r.status == 202);
    auto user = get_user(d, "user_001");
    REQUIRE_FALSE(user.empty());
    CHECK(user.at("properties") == json::parse(R"({"name":"Jane Doe","email":"jane@example.com"})"));
    CHECK(user.at("company_id") == "company_001");
    CHECK(d.call("GET", "/v1/companies/company_001").status == 200);
}

TEST_CASE("the Users API examples get the documented answer and the profile reads back", "[seeds][users][integration]")
{
    test_daemon d;
    std::string example = GENERATE_REF(as<std::string>(), users_example, users_js_example, users_python_example);
    auto r = post(d, "/v1/users", example, {{"Authorization", "Bearer " + d.secret_key()}});
    REQUIRE(r.status == 200);
    auto body = r.json().as_object();
    CHECK(body.at("success") == true);
    CHECK(body.at("external_id") == "user_123");
    CHECK(body.at("message") == "User created successfully");

    auto user = get_user(d, "user_123");
    REQUIRE_FALSE(user.empty());
    CHECK(user.at("id") == body.at("user_id"));
    CHECK(user.at("email") == "user@example.com");
    CHECK(user.at("phone") == "+1234567890");
    CHECK(user.at("properties") == json::parse(R"({"name":"John Doe","plan":"premium","signup_date":"2023-06-15"})"));
    CHECK(user.at("origin").at("channel") == "ios-app");
    CHECK(user.at("origin").at("campaign") == "spring-launch");
}

TEST_CASE("the People API examples, in the document's order, get {status:1} and build one profile",
          "[seeds][people][integration]")
{
    test_daemon d;
    auto public_body = with_key(people_identify_example, "YOUR_PUBLIC_API_KEY", d.public_key());
    auto identify = post(d, "/public/identify", public_body, {});
    REQUIRE(identify.status == 200);
    CHECK(identify.body == R"({"status":1,"error":null})");
    auto after_identify = get_user(d, "user_123");
    REQUIRE_FALSE(after_identify.empty());
    CHECK(after_identify.at("email") == "test@test.com");
    CHECK(after_identify.at("properties") ==
          json::parse(R"({"$name":"John Doe","$email":"test@test.com","plan":"pro"})"));

    auto set = post(d, "/public/people/set", with_key(people_set_example, "YOUR_SECRET_KEY", d.secret_key()), {});
    REQUIRE(set.status == 200);
    CHECK(set.body == R"({"status":1,"error":null})");
    CHECK(get_user(d, "user_123").at("properties") ==
          json::parse(R"({"$name":"John Doe","$email":"test@test.com","plan":"pro","last_login":"2023-10-27","login_count":1})"));

    auto alias = post(d, "/public/alias", with_key(people_alias_example, "YOUR_SECRET_KEY", d.secret_key()), {});
    REQUIRE(alias.status == 200);
    CHECK(alias.body == R"({"status":1,"error":null})");
    auto through_alias = get_user(d, "anon_456");
    REQUIRE_FALSE(through_alias.empty());
    CHECK(through_alias.at("user_id") == "user_123");
    CHECK(through_alias.at("id") == after_identify.at("id"));
    CHECK(through_alias.at("aliases") == json::parse(R"(["anon_456"])"));
}

TEST_CASE("each People API example also works on its own", "[seeds][people][integration]")
{
    test_daemon d;
    SECTION("people/set creates the profile")
    {
        REQUIRE(post(d, "/public/people/set", with_key(people_set_example, "YOUR_SECRET_KEY", d.secret_key()), {}).body ==
                R"({"status":1,"error":null})");
        CHECK(get_user(d, "user_123").at("properties") ==
              json::parse(R"({"last_login":"2023-10-27","login_count":1})"));
    }
    SECTION("alias before any profile, then a write to the anonymous id lands on the permanent one")
    {
        REQUIRE(post(d, "/public/alias", with_key(people_alias_example, "YOUR_SECRET_KEY", d.secret_key()), {}).body ==
                R"({"status":1,"error":null})");
        REQUIRE(post(d, "/public/identify",
                     with_key(with_key(people_identify_example, "YOUR_PUBLIC_API_KEY", d.public_key()), "user_123", "anon_456"),
                     {})
                    .status == 200);
        auto user = get_user(d, "user_123");
        REQUIRE_FALSE(user.empty());
        CHECK(user.at("properties").at("plan") == "pro");
        CHECK(user.at("aliases") == json::parse(R"(["anon_456"])"));
    }
}

TEST_CASE("the bulk JSON payload example gets a queued job that ends done with both users readable",
          "[seeds][bulk][integration]")
{
    test_daemon d;
    auto r = http_call(d.port(), "POST", "/v1/users/bulk_identify", bulk_json_example,
                       bulk_headers(d, "application/json"));
    check_bulk_example(d, r);
}

TEST_CASE("the bulk NDJSON file upload example, as curl sends it, gets a queued job that ends done",
          "[seeds][bulk][integration]")
{
    test_daemon d;
    auto r = http_call(d.port(), "POST", "/v1/users/bulk_identify", curl_form_body(bulk_ndjson_file),
                       bulk_headers(d, "multipart/form-data; boundary=" + curl_boundary));
    check_bulk_example(d, r);
    auto job = fetch_job(d, std::string(r.json().at("job_id").as_string()));
    CHECK(string_field(job, "filename") == "file.ndjson");
}

TEST_CASE("the documents' cURL commands, run by curl itself, get the documented answers", "[seeds][curl][integration]")
{
    if (!std::filesystem::exists("/usr/bin/curl")) {
        WARN("curl is not installed; the cURL examples were not run");
        return;
    }
    test_daemon d;
    temp_dir files;
    std::string ndjson_path = files.path() + "/file.ndjson";
    std::ofstream(ndjson_path) << bulk_ndjson_file;

    auto [people_status, people_body] =
        run_curl(d, people_identify_curl, "https://api.empmix.com", "YOUR_PUBLIC_API_KEY", d.public_key());
    CHECK(people_status == 200);
    CHECK(people_body == R"({"status":1,"error":null})");
    CHECK(get_user(d, "user_123").at("email") == "test@test.com");

    auto [users_status, users_body] = run_curl(d, users_curl, "https://api.appizer.com", "YOUR_API_KEY", d.secret_key());
    REQUIRE(users_status == 200);
    auto users = json::parse(users_body).as_object();
    CHECK(users.at("success") == true);
    CHECK(users.at("external_id") == "user_123");
    // The People API example made user_123 a moment ago.
    CHECK(users.at("message") == "User updated successfully");
    auto user = get_user(d, "user_123");
    CHECK(user.at("phone") == "+1234567890");
    CHECK(user.at("email") == "user@example.com");
    CHECK(user.at("origin") == json::parse(R"({"channel":"ios-app","campaign":"spring-launch"})"));

    auto [bulk_status, bulk_body] = run_curl(d, with_key(bulk_curl, "/path/to/your/file.ndjson", ndjson_path),
                                             "https://analytex.userpilot.io", "{YOUR_API_KEY}", d.secret_key());
    check_bulk_example(d, http_reply{bulk_status, {}, bulk_body});
}
