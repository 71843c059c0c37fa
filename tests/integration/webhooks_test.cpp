// Webhooks against the real daemon, on both engines: registration, signed deliveries of job.done and job.failed
// to a receiver in the test, retries, timeouts, https with a test CA, the private-address guard, and a crash
// between a job's end and its delivery.
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <thread>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <catch2/catch.hpp>

#include "tests/support/api_checks.hpp"
#include "tests/support/bulk_jobs.hpp"
#include "tests/support/test_daemon.hpp"
#include "tests/support/webhook_receiver.hpp"

using namespace profiled::test;
namespace json = boost::json;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

// Loopback receivers are private addresses: every test but the guard's own allows them.
const std::vector<std::string> quick_retries{"--rows-per-minute", "0", "--webhook-allow-private",
                                             "--webhook-retry-base", "0.05"};

// The settings above and more.
std::vector<std::string> with(std::vector<std::string> extra)
{
    std::vector<std::string> args = quick_retries;
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
}

// A JSON array of strings.
std::string events_json(const std::vector<std::string>& events)
{
    json::array a;
    for (const auto& e : events)
        a.emplace_back(e);
    return json::serialize(a);
}

// POST /v1/webhooks with the given key (the secret key when "").
http_reply register_webhook(const test_daemon& d, const std::string& url,
                            const std::vector<std::string>& events = {"job.done", "job.failed"},
                            const std::string& key = "")
{
    std::string body = R"({"url":)" + json::serialize(json::value(url)) + R"(,"events":)" + events_json(events) + "}";
    if (key.empty())
        return d.call("POST", "/v1/webhooks", body, {{"Content-Type", "application/json"}});
    return http_call(d.port(), "POST", "/v1/webhooks", body,
                     {{"Authorization", "Token " + key}, {"Content-Type", "application/json"}});
}

// Registers a webhook and returns its object (id, secret, ...); fails the test unless 201.
json::object add_webhook(const test_daemon& d, const std::string& url,
                         const std::vector<std::string>& events = {"job.done", "job.failed"},
                         const std::string& key = "")
{
    auto r = register_webhook(d, url, events, key);
    INFO(r.body);
    REQUIRE(r.status == 201);
    return r.json().as_object();
}

// Uploads rows as a users job and waits for its end; the job's id.
std::string run_job(const test_daemon& d, const std::string& rows, const std::string& key = "")
{
    auto r = upload_ndjson(d, "users", rows, key);
    INFO(r.body);
    REQUIRE(r.status == 202);
    std::string job_id = string_field(r.json().as_object(), "job_id");
    auto end = wait_for_job_end(d, job_id, 30000, key);
    REQUIRE(!string_field(end, "status").empty());
    return job_id;
}

// Rows that are all invalid (metadata not primitive): the job ends failed.
std::string invalid_rows(int n)
{
    std::string rows;
    for (int i = 0; i < n; ++i)
        rows += R"({"user_id":"bad)" + std::to_string(i) + R"(","metadata":{"nested":{"no":1}}})" + "\n";
    return rows;
}

// GET /v1/webhooks/{id}/deliveries (with the given query) as JSON; fails the test unless 200.
json::object deliveries(const test_daemon& d, const std::string& webhook_id, const std::string& query = "",
                        const std::string& key = "")
{
    std::string target = "/v1/webhooks/" + webhook_id + "/deliveries" + query;
    auto r = key.empty() ? d.call("GET", target)
                         : http_call(d.port(), "GET", target, "", {{"Authorization", "Token " + key}});
    INFO(r.body);
    REQUIRE(r.status == 200);
    return r.json().as_object();
}

// Waits until check() holds, for at most timeout; whether it did.
bool eventually(const std::function<bool()>& check, std::chrono::milliseconds timeout = 15s)
{
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (check())
            return true;
        std::this_thread::sleep_for(20ms);
    }
    return check();
}

// The attempts a webhook's deliveries listing shows (the first page of up to 100).
json::array attempts_of(const test_daemon& d, const std::string& webhook_id, const std::string& key = "")
{
    return deliveries(d, webhook_id, "?limit=100", key).at("deliveries").as_array();
}

// Checks a delivery as a receiver would: headers, the signature under secret, and the body's event and job.
void check_signed_delivery(const received_request& req, const std::string& secret, const std::string& event,
                           const std::string& job_id, const std::string& job_status)
{
    CHECK(req.method == "POST");
    CHECK(req.target == "/hook");
    CHECK(req.headers.at("content-type") == "application/json");
    CHECK(req.headers.at("user-agent").rfind("profiled/", 0) == 0);
    const std::string& signature = req.headers.at("profiled-signature");
    auto comma = signature.find(",v1=");
    REQUIRE(signature.rfind("t=", 0) == 0);
    REQUIRE(comma != std::string::npos);
    std::string t = signature.substr(2, comma - 2);
    std::string v1 = signature.substr(comma + 4);
    CHECK(v1 == test_hmac_sha256_hex(secret, t + "." + req.body));
    CHECK(v1 != test_hmac_sha256_hex(secret + "x", t + "." + req.body));
    auto now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch());
    CHECK(std::llabs(std::stoll(t) - now.count()) < 60);
    json::object body = json::parse(req.body).as_object();
    CHECK(body.at("id").as_string() == req.headers.at("profiled-delivery-id"));
    CHECK(string_field(body, "id").rfind("whd_", 0) == 0);
    CHECK(body.at("type").as_string() == event);
    CHECK(!string_field(body, "created_at").empty());
    const json::object& data = body.at("data").as_object();
    CHECK(string_field(data, "job_id") == job_id);
    CHECK(string_field(data, "status") == job_status);
    CHECK(data.contains("processed_rows"));
}

} // namespace

TEST_CASE("webhook registration: 201 with a secret shown once, listed without it, bad bodies 400, a limit per "
          "project, other projects' webhooks 404",
          "[webhooks][integration]")
{
    test_daemon d({"--webhook-allow-private"});
    auto created = add_webhook(d, "https://hooks.example.com/profiled?team=1", {"job.done"});
    std::string id = string_field(created, "id");
    CHECK(id.rfind("wh_", 0) == 0);
    CHECK(string_field(created, "url") == "https://hooks.example.com/profiled?team=1");
    CHECK(json::serialize(created.at("events")) == R"(["job.done"])");
    CHECK(!string_field(created, "created_at").empty());
    CHECK(string_field(created, "secret").size() == 64); // 32 random bytes in hex

    auto listed = d.call("GET", "/v1/webhooks");
    REQUIRE(listed.status == 200);
    json::value listed_body = listed.json();
    const json::array& hooks = listed_body.at("webhooks").as_array();
    REQUIRE(hooks.size() == 1);
    CHECK(string_field(hooks[0].as_object(), "id") == id);
    CHECK(!hooks[0].as_object().contains("secret"));
    CHECK(listed.body.find(string_field(created, "secret")) == std::string::npos);
    CHECK(deliveries(d, id).at("deliveries").as_array().empty());

    SECTION("bad bodies")
    {
        auto post = [&](const std::string& body) {
            return d.call("POST", "/v1/webhooks", body, {{"Content-Type", "application/json"}});
        };
        check_error(post(R"({"events":["job.done"]})"), 400, "missing_field", "url");
        check_error(post(R"({"url":"https://a.example/"})"), 400, "missing_field", "events");
        check_error(post(R"({"url":"https://a.example/","events":[]})"), 400, "invalid_field", "events");
        check_error(post(R"({"url":"https://a.example/","events":["job.started"]})"), 400, "invalid_field", "events");
        check_error(post(R"({"url":"https://a.example/","events":"job.done"})"), 400, "invalid_field", "events");
        check_error(post(R"({"url":"https://a.example/","events":["job.done"],"secret":"mine"})"), 400, "unknown_field",
                    "secret");
        check_error(post(R"({"url":42,"events":["job.done"]})"), 400, "invalid_field", "url");
        for (const char* url : {"ftp://a.example/", "/relative/path", "https://", "http:///path", "a.example",
                                "https://user:pw@a.example/", "http://a.example:0/"}) {
            CAPTURE(url);
            check_error(post(R"({"url":")" + std::string(url) + R"(","events":["job.done"]})"), 400, "invalid_field",
                        "url");
        }
        std::string long_url = "https://a.example/" + std::string(2048, 'x');
        check_error(post(R"({"url":")" + long_url + R"(","events":["job.done"]})"), 400, "invalid_field", "url");
        check_error(post("not json"), 400, "invalid_json");
        CHECK(d.call("GET", "/v1/webhooks").json().at("webhooks").as_array().size() == 1);
    }
    SECTION("at most 20 per project")
    {
        for (int i = 1; i < 20; ++i)
            REQUIRE(register_webhook(d, "https://a.example/" + std::to_string(i)).status == 201);
        check_error(register_webhook(d, "https://a.example/21"), 409, "webhook_limit");
        REQUIRE(d.call("DELETE", "/v1/webhooks/" + id).status == 204);
        CHECK(register_webhook(d, "https://a.example/21").status == 201);
    }
    SECTION("another project sees none of them")
    {
        std::string other = create_key(d.data_dir(), "other", "secret", d.database());
        header_list as_other{{"Authorization", "Token " + other}};
        auto theirs = http_call(d.port(), "GET", "/v1/webhooks", "", as_other);
        REQUIRE(theirs.status == 200);
        CHECK(theirs.json().at("webhooks").as_array().empty());
        check_error(http_call(d.port(), "DELETE", "/v1/webhooks/" + id, "", as_other), 404, "not_found");
        check_error(http_call(d.port(), "GET", "/v1/webhooks/" + id + "/deliveries", "", as_other), 404, "not_found");
        check_error(d.call("DELETE", "/v1/webhooks/wh_nosuchwebhook00"), 404, "not_found");
        check_error(d.call("GET", "/v1/webhooks/" + id + "/deliveries?cursor=zz"), 400, "invalid_field", "cursor");
        // Still there for its own project, then gone.
        REQUIRE(d.call("DELETE", "/v1/webhooks/" + id).status == 204);
        check_error(d.call("DELETE", "/v1/webhooks/" + id), 404, "not_found");
        CHECK(d.call("GET", "/v1/webhooks").json().at("webhooks").as_array().empty());
    }
    SECTION("a public key may not manage webhooks")
    {
        auto r = http_call(d.port(), "GET", "/v1/webhooks", "", {{"Authorization", "Token " + d.public_key()}});
        CHECK(r.status == 403);
    }
}

TEST_CASE("a job that ends done and one that ends failed deliver job.done and job.failed, signed with the "
          "webhook's secret",
          "[webhooks][integration]")
{
    test_daemon d(quick_retries);
    webhook_receiver both;
    webhook_receiver failures_only;
    auto hook = add_webhook(d, both.url());
    auto failed_hook = add_webhook(d, failures_only.url(), {"job.failed"});

    std::string done_job = run_job(d, user_rows(3));
    REQUIRE(both.wait_for(1, 10000));
    std::string failed_job = run_job(d, invalid_rows(2));
    REQUIRE(both.wait_for(2, 10000));
    REQUIRE(failures_only.wait_for(1, 10000));

    auto got = both.requests();
    REQUIRE(got.size() == 2);
    check_signed_delivery(got[0], string_field(hook, "secret"), "job.done", done_job, "done");
    check_signed_delivery(got[1], string_field(hook, "secret"), "job.failed", failed_job, "failed");
    CHECK(got[0].headers.at("profiled-delivery-id") != got[1].headers.at("profiled-delivery-id"));
    auto only_failed = failures_only.requests();
    REQUIRE(only_failed.size() == 1);
    check_signed_delivery(only_failed[0], string_field(failed_hook, "secret"), "job.failed", failed_job, "failed");

    // The attempts as the deliveries endpoint shows them, newest first, once recorded.
    std::string id = string_field(hook, "id");
    REQUIRE(eventually([&] { return attempts_of(d, id).size() == 2; }));
    auto attempts = attempts_of(d, id);
    const json::object& newest = attempts[0].as_object();
    CHECK(string_field(newest, "event") == "job.failed");
    CHECK(string_field(newest, "job_id") == failed_job);
    CHECK(string_field(newest, "delivery_id") == got[1].headers.at("profiled-delivery-id"));
    CHECK(int_field(newest, "attempt") == 1);
    CHECK(int_field(newest, "status_code") == 204);
    CHECK(newest.at("error").is_null());
    CHECK(string_field(newest, "state") == "delivered");
    CHECK(!string_field(newest, "attempted_at").empty());
    CHECK(string_field(attempts[1].as_object(), "job_id") == done_job);
    // Delivered once each, not again.
    std::this_thread::sleep_for(500ms);
    CHECK(both.requests().size() == 2);
    CHECK(failures_only.requests().size() == 1);
    auto delivered = d.wait_for_event("webhook.delivered");
    CHECK(string_field(delivered, "job_id") == done_job);
    CHECK(d.log_text().find(string_field(hook, "secret")) == std::string::npos);
}

TEST_CASE("a receiver failing the first two attempts gets the delivery on the third, and the deliveries listing "
          "pages through all three",
          "[webhooks][integration]")
{
    test_daemon d(quick_retries);
    webhook_receiver flaky({.fail_first = 2});
    auto hook = add_webhook(d, flaky.url());
    std::string job = run_job(d, user_rows(2));
    REQUIRE(flaky.wait_for(3, 15000));
    std::string id = string_field(hook, "id");
    REQUIRE(eventually([&] { return attempts_of(d, id).size() == 3; }));

    auto first = deliveries(d, id, "?limit=2");
    const json::array& page = first.at("deliveries").as_array();
    REQUIRE(page.size() == 2);
    REQUIRE(first.at("next_cursor").is_string());
    auto second = deliveries(d, id, "?limit=2&cursor=" + std::string(first.at("next_cursor").as_string()));
    const json::array& rest = second.at("deliveries").as_array();
    REQUIRE(rest.size() == 1);
    CHECK(second.at("next_cursor").is_null());
    const json::object& a3 = page[0].as_object();
    const json::object& a2 = page[1].as_object();
    const json::object& a1 = rest[0].as_object();
    CHECK(int_field(a3, "attempt") == 3);
    CHECK(int_field(a2, "attempt") == 2);
    CHECK(int_field(a1, "attempt") == 1);
    CHECK(int_field(a3, "status_code") == 204);
    CHECK(int_field(a2, "status_code") == 500);
    CHECK(int_field(a1, "status_code") == 500);
    CHECK(string_field(a1, "error").find("500") != std::string::npos);
    for (const auto* a : {&a1, &a2, &a3}) {
        CHECK(string_field(*a, "state") == "delivered");
        CHECK(string_field(*a, "job_id") == job);
        CHECK(string_field(*a, "delivery_id") == string_field(a1, "delivery_id"));
    }
    // The same delivery each time: same id and body, a fresh signature.
    auto got = flaky.requests();
    CHECK(got[0].headers.at("profiled-delivery-id") == got[2].headers.at("profiled-delivery-id"));
    CHECK(got[0].body == got[2].body);
    check_signed_delivery(got[2], string_field(hook, "secret"), "job.done", job, "done");
    std::this_thread::sleep_for(300ms);
    CHECK(flaky.requests().size() == 3);
}

TEST_CASE("a receiver that never answers times out until the delivery is marked failed, while another project's "
          "webhook is delivered meanwhile",
          "[webhooks][integration]")
{
    test_daemon d(with({"--webhook-timeout", "1", "--webhook-max-attempts", "3"}));
    webhook_receiver silent({.never_answer = true});
    webhook_receiver prompt;
    std::string other = create_key(d.data_dir(), "other", "secret", d.database());
    auto stuck_hook = add_webhook(d, silent.url());
    auto other_hook = add_webhook(d, prompt.url(), {"job.done"}, other);

    run_job(d, user_rows(2));
    REQUIRE(silent.wait_for(1, 10000));
    // The first attempt hangs now; the other project's delivery does not wait for it.
    auto asked = std::chrono::steady_clock::now();
    std::string other_job = run_job(d, user_rows(2, 100), other);
    REQUIRE(prompt.wait_for(1, 10000));
    CHECK(std::chrono::steady_clock::now() - asked < 5s);
    check_signed_delivery(prompt.requests()[0], string_field(other_hook, "secret"), "job.done", other_job, "done");

    std::string id = string_field(stuck_hook, "id");
    REQUIRE(eventually([&] {
        auto a = attempts_of(d, id);
        return a.size() == 3 && string_field(a[0].as_object(), "state") == "failed";
    }));
    auto attempts = attempts_of(d, id);
    for (const auto& a : attempts) {
        CHECK(a.as_object().at("status_code").is_null());
        CHECK(string_field(a.as_object(), "error").find("timed out") != std::string::npos);
    }
    CHECK(silent.requests().size() == 3);
    auto failed = d.wait_for_event("webhook.failed");
    CHECK(int_field(failed, "attempt") == 3);
    auto metrics = http_call(d.port(), "GET", "/metrics");
    CHECK(metrics.body.find("profiled_webhook_deliveries_total{outcome=\"failed\"} 1") != std::string::npos);
    CHECK(metrics.body.find("profiled_webhook_deliveries_total{outcome=\"retry\"} 2") != std::string::npos);
    // Nothing more is tried.
    std::this_thread::sleep_for(500ms);
    CHECK(silent.requests().size() == 3);
}

TEST_CASE("https webhooks: delivered to a server whose certificate a --webhook-ca-file CA signed, refused "
          "without that CA",
          "[webhooks][integration]")
{
    temp_dir certs;
    const std::string dir = certs.path();
    // A test CA and a server certificate for 127.0.0.1 and localhost, made with the openssl CLI.
    std::string make = "cd '" + dir +
                       "' && "
                       "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 "
                       "-subj /CN=profiled-test-ca -keyout ca.key -out ca.pem && "
                       "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
                       "-subj /CN=localhost -keyout server.key -out server.csr && "
                       "printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > san.ext && "
                       "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 "
                       "-extfile san.ext -out server.pem";
    REQUIRE(std::system((make + " >/dev/null 2>&1").c_str()) == 0);
    webhook_receiver tls({.cert_file = dir + "/server.pem", .key_file = dir + "/server.key"});
    REQUIRE(tls.url().rfind("https://", 0) == 0);

    SECTION("trusted through --webhook-ca-file")
    {
        test_daemon d(with({"--webhook-ca-file", dir + "/ca.pem"}));
        auto hook = add_webhook(d, tls.url());
        std::string job = run_job(d, user_rows(2));
        REQUIRE(tls.wait_for(1, 10000));
        check_signed_delivery(tls.requests()[0], string_field(hook, "secret"), "job.done", job, "done");
        auto by_name = add_webhook(d, tls.url("localhost"));
        std::string second = run_job(d, user_rows(1, 50));
        REQUIRE(tls.wait_for(3, 10000)); // both webhooks get the second job: by address and by name (SNI)
    }
    SECTION("not trusted without it")
    {
        test_daemon d(with({"--webhook-max-attempts", "1"}));
        auto hook = add_webhook(d, tls.url());
        run_job(d, user_rows(2));
        std::string id = string_field(hook, "id");
        REQUIRE(eventually([&] { return attempts_of(d, id).size() == 1; }));
        auto attempt = attempts_of(d, id)[0].as_object();
        CHECK(string_field(attempt, "state") == "failed");
        CHECK(string_field(attempt, "error").find("TLS handshake") != std::string::npos);
        CHECK(attempt.at("status_code").is_null());
        CHECK(tls.requests().empty());
    }
}

TEST_CASE("private addresses: refused at registration without --webhook-allow-private, and a host name that "
          "resolves to one is not connected to",
          "[webhooks][integration]")
{
    test_daemon d({"--rows-per-minute", "0", "--webhook-max-attempts", "1"});
    for (const char* url : {"http://127.0.0.1:8080/hook", "http://10.1.2.3/", "http://172.16.0.1/",
                            "http://192.168.1.1/", "http://169.254.169.254/latest/meta-data", "http://0.0.0.0/",
                            "http://100.64.0.1/", "http://[::1]/", "http://[fd00::1]/", "http://[fe80::1]/",
                            "http://[::ffff:127.0.0.1]/", "https://[::ffff:10.0.0.1]/", "http://[::]/"}) {
        CAPTURE(url);
        check_error(register_webhook(d, url), 400, "private_address", "url");
    }
    CHECK(register_webhook(d, "https://93.184.215.14/hook").status == 201);

    webhook_receiver local;
    auto hook = add_webhook(d, local.url("localhost"));
    run_job(d, user_rows(1));
    std::string id = string_field(hook, "id");
    REQUIRE(eventually([&] { return attempts_of(d, id).size() == 1; }));
    auto attempt = attempts_of(d, id)[0].as_object();
    CHECK(string_field(attempt, "state") == "failed");
    CHECK(string_field(attempt, "error").find("may not reach") != std::string::npos);
    CHECK(local.connections() == 0);
}

TEST_CASE("kill -9 after a job ended but before its webhook was delivered: delivered after the restart",
          "[webhooks][crash][integration]")
{
    // The receiver's port, with nothing listening there yet.
    int port = 0;
    {
        webhook_receiver placeholder;
        port = placeholder.port();
    }
    test_daemon d({"--rows-per-minute", "0", "--webhook-allow-private", "--webhook-retry-base", "0.5",
                   "--webhook-max-attempts", "50"});
    auto hook = add_webhook(d, "http://127.0.0.1:" + std::to_string(port) + "/hook");
    std::string job = run_job(d, user_rows(3));
    std::string id = string_field(hook, "id");
    // The delivery is in the outbox, and attempted (refused: nobody listens) at least once.
    REQUIRE(eventually([&] { return !attempts_of(d, id).empty(); }));
    auto first = attempts_of(d, id)[0].as_object();
    CHECK(string_field(first, "state") == "pending");
    CHECK(string_field(first, "error").find("connecting") != std::string::npos);
    CHECK(d.stop(SIGKILL) == 128 + SIGKILL);

    webhook_receiver receiver({}, port);
    d.start();
    REQUIRE(receiver.wait_for(1, 15000));
    check_signed_delivery(receiver.requests()[0], string_field(hook, "secret"), "job.done", job, "done");
    REQUIRE(eventually([&] { return string_field(attempts_of(d, id)[0].as_object(), "state") == "delivered"; }));
    std::this_thread::sleep_for(500ms);
    CHECK(receiver.requests().size() == 1);
}

TEST_CASE("kill -9 while a delivery is in flight: the restarted daemon sends it again at once",
          "[webhooks][crash][integration]")
{
    int port = 0;
    test_daemon d(with({"--webhook-timeout", "30"}));
    std::string job;
    json::object hook;
    {
        webhook_receiver silent({.never_answer = true});
        port = silent.port();
        hook = add_webhook(d, silent.url());
        job = run_job(d, user_rows(2));
        REQUIRE(silent.wait_for(1, 10000));
        // The attempt waits for an answer, its delivery leased to this daemon for 30 s and more.
        CHECK(d.stop(SIGKILL) == 128 + SIGKILL);
    }
    webhook_receiver receiver({}, port);
    auto restarted = std::chrono::steady_clock::now();
    d.start();
    REQUIRE(receiver.wait_for(1, 10000));
    CHECK(std::chrono::steady_clock::now() - restarted < 10s); // not after the lease ran out
    check_signed_delivery(receiver.requests()[0], string_field(hook, "secret"), "job.done", job, "done");
    std::string id = string_field(hook, "id");
    REQUIRE(eventually([&] { return attempts_of(d, id).size() == 1; }));
    CHECK(string_field(attempts_of(d, id)[0].as_object(), "state") == "delivered");
}
