// Security against the real daemon: every authenticated route refuses missing, malformed, unknown and revoked
// keys (401) and public keys where a secret key is needed (403); projects never see each other's objects (404);
// keys never reach the logs, the database or any answer; spool files are named by profiled, never by the client;
// ids full of SQL read back exactly through every dialect.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <unistd.h>
#include <vector>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <catch2/catch.hpp>

#include "tests/support/api_checks.hpp"
#include "tests/support/bulk_jobs.hpp"
#include "tests/support/engine_database.hpp"
#include "tests/support/test_daemon.hpp"

using namespace profiled::test;
namespace json = boost::json;
namespace fs = std::filesystem;

namespace {

// Who may call a route.
enum class access {
    open,          // no key
    header_secret, // Authorization header, secret only
    body_any,    // apiKey in the body, public or secret
    body_secret, // apiKey in the body, secret only
};

// One route of daemon/api/routes.cpp with a request that would succeed with the right key.
struct route_case {
    std::string method;
    std::string pattern; // as registered, e.g. /v1/users/{user_id}
    access who;
    std::string body; // People API bodies hold APIKEY where the key goes
    header_list headers;
};

const header_list json_type{{"Content-Type", "application/json"}};

// Every route the daemon registers. The first test checks this table against the source.
std::vector<route_case> all_routes()
{
    header_list identify{{"Content-Type", "application/json"}, {"X-API-Version", "2020-09-22"}};
    return {
        {"GET", "/healthz", access::open, "", {}},
        {"GET", "/readyz", access::open, "", {}},
        {"GET", "/metrics", access::open, "", {}},
        // The web console: the page and its files take no key (the key is entered in the page, for the API).
        {"GET", "/", access::open, "", {}},
        {"GET", "/ui", access::open, "", {}},
        {"GET", "/ui/", access::open, "", {}},
        {"GET", "/ui/assets/{version}/{file}", access::open, "", {}},
        {"GET", "/ui/{page}", access::open, "", {}},
        {"POST", "/v1/identify", access::header_secret, R"({"user_id":"written_by_refused"})", identify},
        {"POST", "/v1/companies/identify", access::header_secret, R"({"company_id":"written_by_refused"})", json_type},
        {"GET", "/v1/users/{user_id}", access::header_secret, "", {}},
        {"GET", "/v1/companies/{company_id}", access::header_secret, "", {}},
        {"POST", "/v1/users", access::header_secret, R"({"user_id":"written_by_refused"})", json_type},
        {"POST", "/v1/users/bulk_identify", access::header_secret, R"({"users":[{"user_id":"written_by_refused"}]})",
         json_type},
        {"POST", "/v1/companies/bulk_identify", access::header_secret,
         R"({"companies":[{"company_id":"written_by_refused"}]})", json_type},
        {"GET", "/v1/background_jobs", access::header_secret, "", {}},
        {"GET", "/v1/background_jobs/{job_id}", access::header_secret, "", {}},
        {"GET", "/v1/background_jobs/{job_id}/errors", access::header_secret, "", {}},
        {"POST", "/v1/background_jobs/{job_id}/cancel", access::header_secret, "", {}},
        {"GET", "/v1/users", access::header_secret, "", {}},
        {"GET", "/v1/companies", access::header_secret, "", {}},
        {"GET", "/v1/users/export", access::header_secret, "", {}},
        {"GET", "/v1/companies/export", access::header_secret, "", {}},
        {"DELETE", "/v1/users/{user_id}", access::header_secret, "", {}},
        {"DELETE", "/v1/companies/{company_id}", access::header_secret, "", {}},
        {"DELETE", "/v1/users", access::header_secret, R"({"users":["victim"]})", json_type},
        {"DELETE", "/v1/companies", access::header_secret, R"({"companies":["victim_co"]})", json_type},
        {"POST", "/v1/webhooks", access::header_secret,
         R"({"url":"https://hooks.example.com/refused","events":["job.done"]})", json_type},
        {"GET", "/v1/webhooks", access::header_secret, "", {}},
        {"GET", "/v1/webhooks/{webhook_id}/deliveries", access::header_secret, "", {}},
        {"DELETE", "/v1/webhooks/{webhook_id}", access::header_secret, "", {}},
        {"POST", "/public/identify", access::body_any, R"({APIKEY"distinct_id":"written_by_refused"})", json_type},
        {"POST", "/public/people/set", access::body_secret,
         R"({APIKEY"distinct_id":"written_by_refused","operations":{"$add":{"n":1}}})", json_type},
        {"POST", "/public/alias", access::body_secret,
         R"({APIKEY"alias_id":"written_by_refused","original_id":"victim"})", json_type},
    };
}

// The (method, pattern) pairs registered in daemon/**/*.cpp with routes.add(...) or routes.add_upload(...).
std::set<std::pair<std::string, std::string>> registered_routes()
{
    std::set<std::pair<std::string, std::string>> out;
    std::regex registration(R"re(routes\.add(?:_upload)?\(\s*"([A-Z]+)"\s*,\s*"([^"]+)")re");
    for (const auto& entry : fs::recursive_directory_iterator(fs::path(PROFILED_SOURCE_DIR) / "daemon")) {
        if (entry.path().extension() != ".cpp")
            continue;
        std::ifstream in(entry.path());
        std::stringstream text;
        text << in.rdbuf();
        std::string source = text.str();
        for (std::sregex_iterator it(source.begin(), source.end(), registration), end; it != end; ++it)
            out.emplace((*it)[1], (*it)[2]);
    }
    return out;
}

// The route's pattern with its {placeholders} filled in.
// The webhook the latest victim_daemon registered, for routes with {webhook_id}.
std::string victim_webhook_id;

std::string target_of(const route_case& r, const std::string& job_id)
{
    std::string t = r.pattern;
    auto fill = [&t](const std::string& name, const std::string& value) {
        if (auto at = t.find(name); at != std::string::npos)
            t.replace(at, name.size(), value);
    };
    fill("{user_id}", "victim");
    fill("{company_id}", "victim_co");
    fill("{job_id}", job_id);
    fill("{webhook_id}", victim_webhook_id);
    return t;
}

// The body with `"apiKey":KEY,` where APIKEY stands (or without apiKey when key_json is empty).
std::string with_api_key(std::string body, const std::string& key_json)
{
    auto at = body.find("APIKEY");
    if (at != std::string::npos)
        body.replace(at, 6, key_json.empty() ? "" : "\"apiKey\":" + key_json + ",");
    return body;
}

// A JSON string literal.
std::string json_text(const std::string& text) { return json::serialize(json::value(text)); }

// Sends the route's request with an Authorization header value (none when authorization is empty).
http_reply send_with_header(const test_daemon& d, const route_case& r, const std::string& job_id,
                            const std::string& authorization)
{
    header_list headers = r.headers;
    if (!authorization.empty())
        headers.emplace_back("Authorization", authorization);
    return http_call(d.port(), r.method, target_of(r, job_id), with_api_key(r.body, ""), headers);
}

// Sends a People API route's request with apiKey set to key_json (absent when empty).
http_reply send_with_body_key(const test_daemon& d, const route_case& r, const std::string& key_json)
{
    return http_call(d.port(), r.method, r.pattern, with_api_key(r.body, key_json), r.headers);
}

// True for the routes that need some key.
bool authenticated(const route_case& r) { return r.who != access::open; }
// True for the People API routes, whose key is the body's apiKey.
bool key_in_body(const route_case& r) { return r.who == access::body_any || r.who == access::body_secret; }

// A daemon with a user, a company and a finished job (with one row error) that the refused requests aim at.
struct victim_daemon {
    test_daemon d;
    std::string job_id;

    explicit victim_daemon(std::vector<std::string> args = {}) : d(std::move(args))
    {
        REQUIRE(d.identify(R"({"user_id":"victim","metadata":{"secret":"A-only-value"},)"
                           R"("company":{"id":"victim_co","secret":"A-only-value"}})")
                    .status == 202);
        auto job = upload_json(d, "users", R"({"users":[{"user_id":"victim","metadata":{"secret":"A-only-value"}},)"
                                           R"({"user_id":"","metadata":{"secret":"A-only-value"}}]})");
        REQUIRE(job.status == 202);
        job_id = std::string(job.json().at("job_id").as_string());
        REQUIRE(string_field(wait_for_job_end(d, job_id), "status") == "done");
        // After the job: nothing is delivered to it.
        auto hook = d.call("POST", "/v1/webhooks", R"({"url":"https://hooks.example.com/victim","events":["job.done"]})",
                           {{"Content-Type", "application/json"}});
        REQUIRE(hook.status == 201);
        victim_webhook_id = std::string(hook.json().at("id").as_string());
    }

    // Checks that no refused request wrote anything.
    void check_nothing_written() const
    {
        CHECK(get_user(d, "written_by_refused").empty());
        CHECK(d.call("GET", "/v1/companies/written_by_refused").status == 404);
        CHECK(d.call("GET", "/v1/companies/victim_co").status == 200); // no refused DELETE erased it
        auto jobs = d.call("GET", "/v1/background_jobs");
        REQUIRE(jobs.status == 200);
        CHECK(jobs.json().at("jobs").as_array().size() == 1);
        auto victim = get_user(d, "victim");
        CHECK(victim.at("user_id") == "victim");
        CHECK(victim.at("properties") == json::parse(R"({"secret":"A-only-value"})"));
        CHECK(victim.at("aliases").as_array().empty());
    }
};

// Reads a whole file ("" when missing).
std::string file_text(const fs::path& path)
{
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

// Every regular file under dir, as paths relative to it.
std::set<std::string> files_under(const fs::path& dir)
{
    std::set<std::string> out;
    for (const auto& entry : fs::recursive_directory_iterator(dir)) {
        if (!entry.is_directory())
            out.insert(fs::relative(entry.path(), dir).string());
    }
    return out;
}

// The path segment for an id: every byte but unreserved characters percent-encoded.
std::string path_segment(const std::string& id)
{
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : id) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

} // namespace

TEST_CASE("the security table lists exactly the routes the daemon registers", "[security][auth][integration]")
{
    std::set<std::pair<std::string, std::string>> table;
    for (const auto& r : all_routes())
        table.emplace(r.method, r.pattern);
    auto registered = registered_routes();
    CHECK(registered.size() >= 16);
    CHECK(table == registered);
}

TEST_CASE("every authenticated route refuses a missing, malformed, unknown or revoked key with 401",
          "[security][auth][integration]")
{
    victim_daemon v;
    const test_daemon& d = v.d;
    std::string revoked = create_key(d.data_dir(), "default", "secret");
    REQUIRE(run_profiled({"keys", "revoke", "--data-dir", d.data_dir(), revoked.substr(0, 11)}).exit_code == 0);
    std::string unknown = "sk_" + std::string(40, 'Q');
    const std::string& good = d.secret_key();

    // Authorization header values that must all be refused.
    const std::vector<std::string> bad_headers{
        "",                                   // no header at all
        "Token",                              // scheme without a key
        "Token ",                             // scheme and an empty key
        good,                                 // the key without a scheme
        "Basic " + good,                      // a scheme profiled does not speak
        "Tokens " + good,                     // a near miss
        "Token " + good.substr(0, 20),        // a truncated key
        "Token " + good + "x",                // a key with a byte too many
        "Token " + good.substr(0, 42) + "!",  // the last byte changed
        "Token " + unknown,                   // well-formed but unknown
        "Bearer " + revoked,                  // revoked
        "Token " + good + " " + good,         // two keys
    };
    // apiKey values (JSON) that must all be refused; "" leaves apiKey out.
    const std::vector<std::string> bad_body_keys{
        "",        "null", "\"\"", json_text(good.substr(0, 20)), json_text(good + "x"), json_text(" " + good),
        json_text(unknown), json_text(revoked), json_text("Token " + good),
    };

    std::size_t checked = 0;
    for (const auto& r : all_routes()) {
        if (!authenticated(r))
            continue;
        CAPTURE(r.method, r.pattern);
        if (key_in_body(r)) {
            for (const auto& key_json : bad_body_keys) {
                CAPTURE(key_json);
                check_error(send_with_body_key(d, r, key_json), 401, "unauthorized");
                ++checked;
            }
            // A valid key in the Authorization header does not stand in for apiKey.
            check_error(send_with_header(d, r, v.job_id, "Token " + good), 401, "unauthorized");
        } else {
            for (const auto& authorization : bad_headers) {
                CAPTURE(authorization);
                check_error(send_with_header(d, r, v.job_id, authorization), 401, "unauthorized");
                ++checked;
            }
            // A valid key in the body does not stand in for the header.
            check_error(http_call(d.port(), r.method, target_of(r, v.job_id),
                                  r.body.empty() ? "" : r.body.substr(0, r.body.size() - 1) + ",\"apiKey\":" +
                                                            json_text(good) + "}",
                                  r.headers),
                        401, "unauthorized");
        }
    }
    CHECK(checked == 23 * bad_headers.size() + 3 * bad_body_keys.size());
    v.check_nothing_written();

    // The same requests with the good key succeed, so the refusals above were about the key alone.
    for (const auto& r : all_routes()) {
        CAPTURE(r.method, r.pattern);
        // The console's routes redirect or 404 by design, key or not (console_test checks their answers).
        if (r.pattern == "/" || r.pattern.starts_with("/ui"))
            continue;
        http_reply ok = key_in_body(r) ? send_with_body_key(d, r, json_text(good))
                                       : send_with_header(d, r, v.job_id, authenticated(r) ? "Token " + good : "");
        // The victim's job has ended: a cancel past the key check is answered job_finished.
        if (r.pattern.ends_with("/cancel"))
            check_error(ok, 409, "job_finished");
        else
            CHECK(ok.status / 100 == 2);
    }
}

TEST_CASE("a public key is refused with 403 on every secret-only route and changes nothing",
          "[security][auth][integration]")
{
    victim_daemon v;
    const test_daemon& d = v.d;
    std::size_t refused = 0;
    for (const auto& r : all_routes()) {
        CAPTURE(r.method, r.pattern);
        if (r.who == access::header_secret) {
            for (const char* scheme : {"Token ", "Bearer "}) {
                auto reply = send_with_header(d, r, v.job_id, scheme + d.public_key());
                check_error(reply, 403, "forbidden");
                CHECK(reply.error_message().find("secret key") != std::string::npos);
            }
            ++refused;
        } else if (r.who == access::body_secret) {
            auto reply = send_with_body_key(d, r, json_text(d.public_key()));
            check_error(reply, 403, "forbidden");
            CHECK(reply.error_message().find(r.pattern) != std::string::npos);
            ++refused;
        }
    }
    CHECK(refused == 25);
    v.check_nothing_written();
    // The one route a public key may call.
    auto identify = http_call(d.port(), "POST", "/public/identify",
                              R"({"apiKey":)" + json_text(d.public_key()) + R"(,"distinct_id":"public_ok"})", json_type);
    CHECK(identify.status == 200);
    CHECK_FALSE(get_user(d, "public_ok").empty());
}

TEST_CASE("another project's key gets 404 for users, companies, jobs and job errors, never their data",
          "[security][projects][integration]")
{
    victim_daemon v;
    const test_daemon& d = v.d;
    REQUIRE(http_call(d.port(), "POST", "/public/alias",
                      R"({"apiKey":)" + json_text(d.secret_key()) + R"(,"alias_id":"victim","original_id":"victim_anon"})",
                      json_type)
                .status == 200);
    REQUIRE(d.call("GET", "/v1/background_jobs/" + v.job_id + "/errors").json().at("errors").as_array().size() == 1);
    std::string other = create_key(d.data_dir(), "other", "secret");
    header_list as_other{{"Authorization", "Bearer " + other}};

    for (const std::string& target : std::vector<std::string>{"/v1/users/victim", "/v1/users/victim_anon", "/v1/companies/victim_co",
                               "/v1/background_jobs/" + v.job_id, "/v1/background_jobs/" + v.job_id + "/errors"}) {
        CAPTURE(target);
        auto r = http_call(d.port(), "GET", target, "", as_other);
        check_error(r, 404, "not_found");
        CHECK(r.body.find("A-only-value") == std::string::npos);
    }
    // Nor can it cancel this project's job.
    auto cancel = http_call(d.port(), "POST", "/v1/background_jobs/" + v.job_id + "/cancel", "", as_other);
    check_error(cancel, 404, "not_found");
    CHECK(cancel.body.find("A-only-value") == std::string::npos);
    auto jobs = http_call(d.port(), "GET", "/v1/background_jobs", "", as_other);
    REQUIRE(jobs.status == 200);
    CHECK(jobs.json().at("jobs").as_array().empty());
    CHECK(jobs.body.find(v.job_id) == std::string::npos);

    // The same Idempotency-Key in another project is another key: a new job, not this project's.
    auto mine = upload_json(d, "users", R"({"users":[{"user_id":"victim"}]})", "", {{"Idempotency-Key", "nightly-1"}});
    REQUIRE(mine.status == 202);
    auto theirs_job =
        upload_json(d, "users", R"({"users":[{"user_id":"b_user"}]})", other, {{"Idempotency-Key", "nightly-1"}});
    REQUIRE(theirs_job.status == 202);
    CHECK(theirs_job.json().at("job_id") != mine.json().at("job_id"));

    // Writes with the other key under the same ids make that project's own objects and leave these alone.
    REQUIRE(http_call(d.port(), "POST", "/public/people/set",
                      R"({"apiKey":)" + json_text(other) + R"(,"distinct_id":"victim","operations":{"$set":{"secret":"B"}}})",
                      json_type)
                .status == 200);
    REQUIRE(http_call(d.port(), "POST", "/v1/users", R"({"user_id":"victim_anon","properties":{"secret":"B"}})",
                      {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + other}})
                .status == 200);
    auto victim = get_user(d, "victim");
    CHECK(victim.at("properties") == json::parse(R"({"secret":"A-only-value"})"));
    CHECK(victim.at("aliases") == json::parse(R"(["victim_anon"])"));
    auto theirs = http_call(d.port(), "GET", "/v1/users/victim", "", as_other);
    REQUIRE(theirs.status == 200);
    CHECK(theirs.json().at("properties") == json::parse(R"({"secret":"B"})"));
    CHECK(theirs.json().at("id") != victim.at("id"));
}

TEST_CASE("keys never appear in the logs, the database or any answer, and keys list shows only prefixes",
          "[security][keys][integration]")
{
    victim_daemon v({"--access-log", "--log-level", "debug"});
    const test_daemon& d = v.d;
    auto created = run_profiled({"keys", "create", "--data-dir", d.data_dir(), "--project", "later", "--kind", "secret"});
    REQUIRE(created.exit_code == 0);
    std::string later = created.out.substr(0, created.out.find('\n'));
    REQUIRE(later.size() == 43);
    CHECK(created.err.find(later.substr(11)) == std::string::npos);
    std::string revoked = create_key(d.data_dir(), "default", "secret");
    auto revoke = run_profiled({"keys", "revoke", "--data-dir", d.data_dir(), revoked.substr(0, 11)});
    REQUIRE(revoke.exit_code == 0);
    std::string unknown = "sk_" + std::string(20, 'Z') + std::string(20, 'Y');
    std::vector<std::string> keys{d.secret_key(), d.public_key(), later, revoked, unknown};

    // Every route with every key, in the header and in the body, so each key meets every code path once.
    std::string answers = created.out.substr(later.size()) + created.err + revoke.out + revoke.err;
    for (const auto& key : keys) {
        for (const auto& r : all_routes()) {
            http_reply reply = key_in_body(r) ? send_with_body_key(d, r, json_text(key))
                                              : send_with_header(d, r, v.job_id, "Bearer " + key);
            answers += reply.body;
            for (const auto& [name, value] : reply.headers)
                answers += name + ": " + value + "\n";
        }
    }
    // Refusals are logged with their reason: make a few more happen.
    answers += d.call("POST", "/v1/users", "{not json", json_type).body;
    answers += http_call(d.port(), "GET", "/v1/users/x", "", {{"Authorization", unknown}}).body;

    auto list = run_profiled({"keys", "list", "--data-dir", d.data_dir()});
    REQUIRE(list.exit_code == 0);
    for (const auto& key : {d.secret_key(), d.public_key(), later, revoked})
        CHECK(list.out.find(key.substr(0, 11)) != std::string::npos);
    v.d.stop();

    std::string logs = file_text(fs::path(d.data_dir()) / "daemon.log") + file_text(fs::path(d.data_dir()) / "daemon.out");
    REQUIRE(logs.find("\"http.request\"") != std::string::npos); // the access log was on
    std::string stored = stored_text(d.data_dir());
    REQUIRE_FALSE(stored.empty());
    for (const auto& key : keys) {
        CAPTURE(key);
        // Neither the key nor the part of it after the shown prefix.
        std::string secret_part = key.substr(11);
        CHECK(logs.find(secret_part) == std::string::npos);
        CHECK(stored.find(secret_part) == std::string::npos);
        CHECK(answers.find(secret_part) == std::string::npos);
        CHECK(list.out.find(secret_part) == std::string::npos);
    }
}

// SQLite only: it looks at the spool's files in the data dir; with PostgreSQL the spool is in the database
// (tests/integration/database_spool_test.cpp and cluster_test.cpp cover it there).
TEST_CASE("spool files are named by profiled, and a client's filename is reported but never used as a path",
          "[security][spool][sqlite_only][integration]")
{
    // One row a minute: the jobs stay in the spool while it is inspected.
    test_daemon d({"--rows-per-minute", "1", "--rows-burst", "1"});
    fs::path spool = fs::path(d.data_dir()) / "spool";
    fs::path outside = fs::path(d.data_dir()).parent_path();
    std::string tag = "profiled-escape-" + std::to_string(::getpid());
    const std::vector<std::string> filenames{
        "../../etc/x",
        "../../" + tag,
        "../" + tag,
        (outside / (tag + "-absolute")).string(),
        "..\\..\\" + tag,
        "spool/../../" + tag,
        "%2e%2e%2f%2e%2e%2f" + tag,
        "/dev/null",
    };
    auto before = files_under(d.data_dir());

    std::set<std::string> job_files;
    for (const auto& filename : filenames) {
        CAPTURE(filename);
        // The filename as a quoted-string, the way curl escapes it.
        std::string escaped;
        for (char c : filename) {
            if (c == '\\' || c == '"')
                escaped += '\\';
            escaped += c;
        }
        std::string body = "--" + test_boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" +
                           escaped + "\"\r\nContent-Type: application/octet-stream\r\n\r\n" +
                           user_rows(3, 0, "spool") + "\r\n--" + test_boundary + "--\r\n";
        auto r = d.call("POST", "/v1/users/bulk_identify", body,
                        {{"Content-Type", "multipart/form-data; boundary=" + test_boundary},
                         {"Idempotency-Key", "../../" + tag + "-idem-" + std::to_string(job_files.size())}});
        REQUIRE(r.status == 202);
        std::string job_id(r.json().at("job_id").as_string());
        CHECK(string_field(r.json().as_object(), "filename") == filename);
        CHECK(string_field(fetch_job(d, job_id), "filename") == filename);
        job_files.insert(job_id + ".ndjson");
    }

    // The spool holds one file per job, named after the job id profiled made, and nothing else.
    std::set<std::string> in_spool;
    for (const auto& name : spool_files(d))
        in_spool.insert(name);
    CHECK(in_spool == job_files);
    // Nothing was written anywhere else in the data directory or beside it.
    for (const auto& name : files_under(d.data_dir())) {
        CAPTURE(name);
        bool expected = before.count(name) || name.rfind("spool/", 0) == 0 || name.rfind("profiled.db", 0) == 0;
        CHECK(expected);
    }
    for (const auto& entry : fs::directory_iterator(outside))
        CHECK(entry.path().filename().string().find(tag) == std::string::npos);
    CHECK_FALSE(fs::exists(outside / "etc" / "x"));
    CHECK(fs::is_character_file("/dev/null"));
}

namespace {

// Writes through every dialect with ids, property names and values made of hostile text, then reads all back.
void check_sql_round_trip(const test_daemon& d, const std::string& hostile)
{
    CAPTURE(hostile);
    std::string h = json_text(hostile);
    auto with = [&hostile](const std::string& suffix) { return json_text(hostile + suffix); };
    std::string key = json_text(d.secret_key());

    REQUIRE(d.identify(R"({"user_id":)" + h + R"(,"metadata":{)" + h + ":" + h + R"(},"company":{"id":)" + h + "," +
                       with("_prop") + ":" + h + "}}")
                .status == 202);
    REQUIRE(d.call("POST", "/v1/companies/identify",
                   R"({"company_id":)" + with("_c") + R"(,"metadata":{)" + h + ":" + h + "}}", json_type)
                .status == 202);
    auto users = d.call("POST", "/v1/users",
                        R"({"user_id":)" + with("_users") + R"(,"properties":{)" + h + ":" + h + R"(},"origin":{)" + h +
                            ":" + h + "}}",
                        json_type);
    REQUIRE(users.status == 200);
    CHECK(users.json().at("external_id") == (hostile + "_users").c_str());
    REQUIRE(http_call(d.port(), "POST", "/public/identify",
                      R"({"apiKey":)" + key + R"(,"distinct_id":)" + with("_anon") + R"(,"properties":{)" + h + ":" +
                          h + "}}",
                      json_type)
                .status == 200);
    REQUIRE(http_call(d.port(), "POST", "/public/people/set",
                      R"({"apiKey":)" + key + R"(,"distinct_id":)" + with("_users") + R"(,"operations":{"$set":{)" +
                          with("_set") + ":" + h + R"(},"$add":{)" + with("_n") + R"(:2},"$union":{)" + with("_l") +
                          ":[" + h + "]}}}",
                      json_type)
                .status == 200);
    REQUIRE(http_call(d.port(), "POST", "/public/alias",
                      R"({"apiKey":)" + key + R"(,"alias_id":)" + with("_users") + R"(,"original_id":)" +
                          with("_anon") + "}",
                      json_type)
                .status == 200);
    auto json_job = upload_json(d, "users",
                                R"({"users":[{"user_id":)" + with("_bulk") + R"(,"company_id":)" + h +
                                    R"(,"metadata":{)" + h + ":" + h + "}}]}",
                                "", {{"Idempotency-Key", hostile}});
    REQUIRE(json_job.status == 202);
    // The hostile key is kept as sent: the same request replays the job, another one is refused.
    auto repeat = upload_json(d, "users",
                              R"({"users":[{"user_id":)" + with("_bulk") + R"(,"company_id":)" + h +
                                  R"(,"metadata":{)" + h + ":" + h + "}}]}",
                              "", {{"Idempotency-Key", hostile}});
    REQUIRE(repeat.status == 200);
    CHECK(repeat.json().at("job_id") == json_job.json().at("job_id"));
    auto other = upload_json(d, "users", R"({"users":[{"user_id":"never"}]})", "", {{"Idempotency-Key", hostile}});
    CHECK(other.status == 422);
    auto ndjson_job =
        upload_ndjson(d, "companies", R"({"company_id":)" + with("_bulk_c") + R"(,"metadata":{)" + h + ":" + h + "}}\n");
    REQUIRE(ndjson_job.status == 202);
    for (const auto& job : {json_job, ndjson_job})
        CHECK(string_field(wait_for_job_end(d, std::string(job.json().at("job_id").as_string())), "status") == "done");

    auto identified = get_user(d, path_segment(hostile));
    REQUIRE_FALSE(identified.empty());
    CHECK(identified.at("user_id") == hostile.c_str());
    CHECK(identified.at("properties") == json::object{{hostile, hostile}});
    CHECK(identified.at("company_id") == hostile.c_str());
    for (const auto& suffix : {"_users", "_anon"}) {
        CAPTURE(suffix);
        auto u = get_user(d, path_segment(hostile + suffix));
        REQUIRE_FALSE(u.empty());
        CHECK(u.at("user_id") == (hostile + "_users").c_str());
        CHECK(u.at("properties") == json::object{{hostile, hostile},
                                                 {hostile + "_set", hostile},
                                                 {hostile + "_n", 2},
                                                 {hostile + "_l", json::array{json::value(hostile)}}});
        CHECK(u.at("origin") == json::object{{hostile, hostile}});
        CHECK(u.at("aliases") == json::array{json::value(hostile + "_anon")});
    }
    auto bulk = get_user(d, path_segment(hostile + "_bulk"));
    REQUIRE_FALSE(bulk.empty());
    CHECK(bulk.at("company_id") == hostile.c_str());
    CHECK(bulk.at("properties") == json::object{{hostile, hostile}});
    const std::vector<std::pair<std::string, json::object>> companies{
        {hostile, {{hostile + "_prop", hostile}}},
        {hostile + "_c", {{hostile, hostile}}},
        {hostile + "_bulk_c", {{hostile, hostile}}},
    };
    for (const auto& [company_id, properties] : companies) {
        CAPTURE(company_id);
        auto c = d.call("GET", "/v1/companies/" + path_segment(company_id));
        REQUIRE(c.status == 200);
        CHECK(c.json().at("company_id") == company_id.c_str());
        CHECK(c.json().at("properties") == properties);
    }
    // Query parameters and job ids made of SQL are refused or not found, never run.
    check_error(d.call("GET", "/v1/background_jobs?status=" + path_segment(hostile)), 400, "invalid_field", "status");
    check_error(d.call("GET", "/v1/background_jobs?cursor=" + path_segment(hostile)), 400, "invalid_field", "cursor");
    check_error(d.call("GET", "/v1/background_jobs/" + path_segment(hostile)), 404, "not_found");
    check_error(d.call("GET", "/v1/background_jobs/" + path_segment(hostile) + "/errors"), 404, "not_found");
}

} // namespace

TEST_CASE("ids, property names and values full of SQL are stored as data and read back exactly through every dialect",
          "[security][sql][integration]")
{
    test_daemon d;
    REQUIRE(d.identify(R"({"user_id":"canary","metadata":{"alive":true}})").status == 202);
    const std::vector<std::string> hostile{
        "x'; DROP TABLE users;--",   "\"; DELETE FROM api_keys; --", "a' OR '1'='1",
        "Robert'); DROP TABLE jobs;--", "%_' ESCAPE '\\",           "?1; SELECT * FROM api_keys",
    };
    for (const auto& text : hostile)
        check_sql_round_trip(d, text);

    // Every table is whole: the keys, the other user, the jobs.
    CHECK(get_user(d, "canary").at("properties") == json::parse(R"({"alive":true})"));
    CHECK(d.call("GET", "/v1/background_jobs?limit=100").json().at("jobs").as_array().size() == 2 * hostile.size());
    CHECK(http_call(d.port(), "POST", "/public/identify",
                    R"({"apiKey":)" + json_text(d.public_key()) + R"(,"distinct_id":"still_works"})", json_type)
              .status == 200);
}
