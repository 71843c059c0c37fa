// Erasure (DELETE of users and companies, one or many) against the real daemon, on both engines.
#include <string>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <catch2/catch.hpp>

#include "tests/support/api_checks.hpp"
#include "tests/support/bulk_jobs.hpp"
#include "tests/support/postgres_server.hpp"
#include "tests/support/test_daemon.hpp"

using namespace profiled::test;
namespace json = boost::json;

namespace {

// A daemon on the named engine ("sqlite": its data directory; "postgres": a fresh database), bulk rows unthrottled.
struct engine_daemon {
    explicit engine_daemon(const std::string& engine) : d({"--rows-per-minute", "0"}, options_for(engine)) {}
    static daemon_options options_for(const std::string& engine)
    {
        daemon_options o;
        if (engine == "postgres")
            o.database = fresh_postgres_url();
        return o;
    }
    test_daemon d;
};

// POST /public/alias with the secret key: original_id now resolves to alias_id.
http_reply alias(const test_daemon& d, const std::string& alias_id, const std::string& original_id)
{
    return people_post(d, "/public/alias",
                       R"({"apiKey":")" + d.secret_key() + R"(","alias_id":")" + alias_id + R"(","original_id":")" +
                           original_id + R"("})");
}

// The ids in a job's row errors (null ones as "").
std::vector<std::string> row_error_ids(const test_daemon& d, const std::string& job_id)
{
    auto r = d.call("GET", "/v1/background_jobs/" + job_id + "/errors");
    REQUIRE(r.status == 200);
    std::vector<std::string> ids;
    json::value body = r.json();
    for (const auto& e : body.at("errors").as_array())
        ids.push_back(e.at("user_id").is_null() ? "" : std::string(e.at("user_id").as_string()));
    return ids;
}

// A bulk job of the type whose rows all fail (metadata that is not primitive), one per id; waits for its end.
std::string failing_job(const test_daemon& d, const std::string& type, const std::vector<std::string>& ids)
{
    const char* id_field = type == "users" ? "user_id" : "company_id";
    std::string rows;
    for (const auto& id : ids)
        rows += R"({")" + std::string(id_field) + R"(":")" + id + R"(","metadata":{"nested":{"no":1}}})" + "\n";
    rows += R"({")" + std::string(id_field) + R"(":"fine","metadata":{"ok":1}})" + "\n";
    auto up = upload_ndjson(d, type, rows);
    REQUIRE(up.status == 202);
    std::string job_id = string_field(up.json().as_object(), "job_id");
    REQUIRE(string_field(wait_for_job_end(d, job_id), "status") == "done");
    return job_id;
}

// The daemon's log lines with this event.
std::vector<json::object> events(const test_daemon& d, const std::string& event)
{
    std::vector<json::object> out;
    for (auto& line : d.log_lines())
        if (line.contains("event") && line.at("event") == event.c_str())
            out.push_back(line);
    return out;
}

} // namespace

TEST_CASE("DELETE of a user erases the profile, its aliases both ways and its ids in row errors",
          "[erasure][integration]")
{
    std::string engine = GENERATE("sqlite", "postgres");
    CAPTURE(engine);
    engine_daemon e(engine);
    const test_daemon& d = e.d;
    REQUIRE(d.identify(R"({"user_id":"jane","metadata":{"name":"Jane Doe"},"company":{"id":"acme"}})").status == 202);
    REQUIRE(d.identify(R"({"user_id":"anon_1","metadata":{"seen":"ad"}})").status == 202);
    REQUIRE(alias(d, "jane", "anon_1").status == 200); // anon_1's profile merges into jane's
    REQUIRE(alias(d, "jane", "anon_2").status == 200);
    REQUIRE(d.identify(R"({"user_id":"bob","metadata":{}})").status == 202);
    std::string old_id = string_field(get_user(d, "jane"), "id");
    REQUIRE(get_user(d, "anon_2").at("user_id") == "jane");
    std::string users_job = failing_job(d, "users", {"jane", "anon_1", "bob"});
    std::string companies_job = failing_job(d, "companies", {"jane"});
    REQUIRE(row_error_ids(d, users_job) == std::vector<std::string>{"jane", "anon_1", "bob"});

    std::string target = GENERATE("/v1/users/jane", "/v1/users/anon_2");
    CAPTURE(target);
    auto r = d.call("DELETE", target);
    CHECK(r.status == 204);
    CHECK(r.body.empty());
    CHECK(r.headers.count("content-length") == 0);

    for (const char* id : {"jane", "anon_1", "anon_2"}) {
        CAPTURE(id);
        check_error(d.call("GET", std::string("/v1/users/") + id), 404, "not_found");
    }
    CHECK_FALSE(get_user(d, "bob").empty());
    // The row errors stay, the job's counts still adding up, without the erased ids; a company "jane" is not her.
    CHECK(row_error_ids(d, users_job) == std::vector<std::string>{"", "", "bob"});
    CHECK(row_error_ids(d, companies_job) == std::vector<std::string>{"jane"});
    CHECK(int_field(fetch_job(d, users_job), "failed_rows") == 3);
    // Nothing left to erase: 404, in the common error body.
    check_error(d.call("DELETE", "/v1/users/jane"), 404, "not_found");
    check_error(d.call("DELETE", "/v1/users/anon_1"), 404, "not_found");

    // A later write makes a new profile, with a new internal id and nothing of the old one.
    REQUIRE(d.identify(R"({"user_id":"jane","metadata":{"plan":"free"}})").status == 202);
    auto fresh = get_user(d, "jane");
    CHECK(string_field(fresh, "id") != old_id);
    CHECK(fresh.at("properties") == json::object{{"plan", "free"}});
    CHECK(fresh.at("aliases").as_array().empty());
    CHECK(fresh.at("company_id").is_null());
    // The aliases' ids are free again: anon_2 is a user of its own now.
    REQUIRE(d.identify(R"({"user_id":"anon_2","metadata":{}})").status == 202);
    CHECK(get_user(d, "anon_2").at("user_id") == "anon_2");

    // The log has a line per erasure (the two that found nothing too), with counts and no id.
    auto deleted = events(d, "user.deleted");
    REQUIRE(deleted.size() == 3);
    CHECK(deleted[0].at("deleted") == 1);
    CHECK(deleted[0].at("requested") == 1);
    CHECK(deleted[1].at("deleted") == 0);
    for (const auto& event : deleted) {
        std::string line = json::serialize(event);
        for (const char* id : {"jane", "anon_1", "anon_2"})
            CHECK(line.find(id) == std::string::npos);
    }
}

TEST_CASE("DELETE of a company erases it, and a later identify makes it anew", "[erasure][integration]")
{
    std::string engine = GENERATE("sqlite", "postgres");
    CAPTURE(engine);
    engine_daemon e(engine);
    const test_daemon& d = e.d;
    REQUIRE(d.call("POST", "/v1/companies/identify", R"({"company_id":"acme","metadata":{"size":10}})").status == 202);
    REQUIRE(d.call("POST", "/v1/companies/identify", R"({"company_id":"globex","metadata":{}})").status == 202);
    std::string job = failing_job(d, "companies", {"acme", "globex"});

    auto r = d.call("DELETE", "/v1/companies/acme");
    CHECK(r.status == 204);
    CHECK(r.body.empty());
    check_error(d.call("GET", "/v1/companies/acme"), 404, "not_found");
    CHECK(d.call("GET", "/v1/companies/globex").status == 200);
    CHECK(row_error_ids(d, job) == std::vector<std::string>{"", "globex"});
    check_error(d.call("DELETE", "/v1/companies/acme"), 404, "not_found");
    check_error(d.call("DELETE", "/v1/companies/never_was"), 404, "not_found");

    REQUIRE(d.call("POST", "/v1/companies/identify", R"({"company_id":"acme","metadata":{"size":1}})").status == 202);
    auto again = d.call("GET", "/v1/companies/acme");
    REQUIRE(again.status == 200);
    CHECK(again.json().at("properties") == json::object{{"size", 1}});
    auto deleted = events(d, "company.deleted");
    REQUIRE(deleted.size() == 3);
    CHECK(deleted[0].at("deleted") == 1);
    CHECK(json::serialize(deleted[0]).find("acme") == std::string::npos);
}

TEST_CASE("bulk DELETE of users and companies answers how many profiles it removed", "[erasure][integration]")
{
    std::string engine = GENERATE("sqlite", "postgres");
    CAPTURE(engine);
    engine_daemon e(engine);
    const test_daemon& d = e.d;
    for (const char* id : {"u1", "u2", "u3", "u4"})
        REQUIRE(d.identify(R"({"user_id":")" + std::string(id) + R"(","metadata":{}})").status == 202);
    REQUIRE(alias(d, "u3", "anon_3").status == 200);
    for (const char* id : {"c1", "c2"})
        REQUIRE(d.call("POST", "/v1/companies/identify", R"({"company_id":")" + std::string(id) + R"("})").status ==
                202);

    // u1 twice and u3 by its alias and its id are one profile each; "nobody" names none.
    auto r = d.call("DELETE", "/v1/users", R"({"users":["u1","u1","anon_3","u3","nobody"]})");
    REQUIRE(r.status == 200);
    CHECK(r.json() == json::object{{"deleted", 2}});
    check_error(d.call("GET", "/v1/users/u1"), 404, "not_found");
    check_error(d.call("GET", "/v1/users/u3"), 404, "not_found");
    CHECK_FALSE(get_user(d, "u2").empty());
    CHECK(d.call("DELETE", "/v1/users", R"({"users":["u1","u3"]})").json() == json::object{{"deleted", 0}});

    auto c = d.call("DELETE", "/v1/companies", R"({"companies":["c1","c2","c3"]})");
    REQUIRE(c.status == 200);
    CHECK(c.json() == json::object{{"deleted", 2}});
    check_error(d.call("GET", "/v1/companies/c2"), 404, "not_found");

    // 10,000 ids are allowed.
    std::string many = R"({"users":[)";
    for (int i = 0; i < 10000; ++i)
        many += (i ? ",\"" : "\"") + std::string("x") + std::to_string(i) + "\"";
    many += R"(,"u2"]})";
    // ... and 10,001 are not, nor is anything else but a list of id strings.
    check_error(d.call("DELETE", "/v1/users", many), 400, "invalid_field", "users");
    CHECK_FALSE(get_user(d, "u2").empty());
    many.erase(many.find(R"(,"u2")"), 5);
    many.replace(many.find("\"x0\""), 4, "\"u2\"");
    auto big = d.call("DELETE", "/v1/users", many);
    REQUIRE(big.status == 200);
    CHECK(big.json() == json::object{{"deleted", 1}});
    CHECK(events(d, "user.deleted").size() == 3);
}

TEST_CASE("bulk DELETE refuses every body that is not a list of 1 to 10,000 ids", "[erasure][integration]")
{
    test_daemon d;
    REQUIRE(d.identify(R"({"user_id":"keep","metadata":{}})").status == 202);
    using row = std::tuple<std::string, std::string, std::string, std::string>; // path, body, code, field
    auto [path, body, code, field] = GENERATE(table<std::string, std::string, std::string, std::string>({
        row{"/v1/users", R"({"users":[]})", "invalid_field", "users"},
        row{"/v1/users", R"({"users":["keep",7]})", "invalid_field", "users"},
        row{"/v1/users", R"({"users":["keep",null]})", "invalid_field", "users"},
        row{"/v1/users", R"({"users":["keep",""]})", "invalid_field", "users"},
        row{"/v1/users", R"({"users":["keep",["a"]]})", "invalid_field", "users"},
        row{"/v1/users", R"({"users":"keep"})", "invalid_field", "users"},
        row{"/v1/users", R"({"users":{"id":"keep"}})", "invalid_field", "users"},
        row{"/v1/users", R"({"users":null})", "missing_field", "users"},
        row{"/v1/users", R"({"companies":["keep"]})", "missing_field", "users"},
        row{"/v1/users", R"({"users":["keep"])", "invalid_json", ""},
        row{"/v1/users", R"(["keep"])", "invalid_json", ""},
        row{"/v1/users", "", "empty_body", ""},
        row{"/v1/companies", R"({"companies":[1]})", "invalid_field", "companies"},
        row{"/v1/companies", R"({"users":["keep"]})", "missing_field", "companies"},
    }));
    CAPTURE(path, body);
    auto r = d.call("DELETE", path, body);
    INFO(r.body);
    CHECK(r.status == 400);
    CHECK(r.error_code() == code);
    if (!field.empty())
        check_error(r, 400, code, field);
    CHECK_FALSE(get_user(d, "keep").empty());
    CHECK(d.call("DELETE", "/v1/users", "{\"users\":[\"keep\"]}", {{"Content-Type", "text/plain"}}).status == 415);
    CHECK(d.call("DELETE", "/v1/users", std::string(300, 'x') + "\"").status == 400);
    std::string long_id(256, 'a');
    check_error(d.call("DELETE", "/v1/users", R"({"users":[")" + long_id + R"("]})"), 400, "invalid_field", "users");
}

TEST_CASE("erasure is only for the key's project, and only with a secret key", "[erasure][security][integration]")
{
    test_daemon d;
    REQUIRE(d.identify(R"({"user_id":"victim","metadata":{"secret":"A-only-value"}})").status == 202);
    REQUIRE(d.call("POST", "/v1/companies/identify", R"({"company_id":"victim_co"})").status == 202);
    std::string other = create_key(d.data_dir(), "other", "secret");
    header_list as_other{{"Authorization", "Bearer " + other}};

    check_error(http_call(d.port(), "DELETE", "/v1/users/victim", "", as_other), 404, "not_found");
    check_error(http_call(d.port(), "DELETE", "/v1/companies/victim_co", "", as_other), 404, "not_found");
    auto bulk = http_call(d.port(), "DELETE", "/v1/users", R"({"users":["victim"]})", as_other);
    REQUIRE(bulk.status == 200);
    CHECK(bulk.json() == json::object{{"deleted", 0}});
    auto bulk_companies = http_call(d.port(), "DELETE", "/v1/companies", R"({"companies":["victim_co"]})", as_other);
    CHECK(bulk_companies.json() == json::object{{"deleted", 0}});
    CHECK(get_user(d, "victim").at("properties").at("secret") == "A-only-value");
    CHECK(d.call("GET", "/v1/companies/victim_co").status == 200);

    header_list as_public{{"Authorization", "Token " + d.public_key()}};
    check_error(http_call(d.port(), "DELETE", "/v1/users/victim", "", as_public), 403, "forbidden");
    check_error(http_call(d.port(), "DELETE", "/v1/users", R"({"users":["victim"]})", as_public), 403, "forbidden");
    check_error(http_call(d.port(), "DELETE", "/v1/users/victim"), 401, "unauthorized");
    CHECK_FALSE(get_user(d, "victim").empty());
    // Ids no profile can have (too long, not UTF-8) are simply not there.
    check_error(d.call("DELETE", "/v1/users/" + std::string(256, 'v')), 404, "not_found");
    check_error(d.call("DELETE", "/v1/users/%FF%FE"), 404, "not_found");
    auto put = d.call("PUT", "/v1/users/victim");
    check_error(put, 405, "method_not_allowed");
    CHECK(put.headers["allow"].find("DELETE") != std::string::npos);
}
