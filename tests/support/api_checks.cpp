#include "tests/support/api_checks.hpp"

#include <catch2/catch.hpp>

#include <boost/json/parse.hpp>

#include <chrono>
#include <thread>

#include "tests/support/test_engine.hpp"

namespace profiled::test {

void await_key_change(const std::function<int()>& probe, int status)
{
    if (!on_postgres())
        return;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    while (probe() != status && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
}

// Checks that reply is the common error body with this status and error_code.
void check_error(const http_reply& reply, int status, const std::string& code, const std::string& field)
{
    INFO("reply " << reply.status << " " << reply.body);
    CHECK(reply.status == status);
    auto type = reply.headers.find("content-type");
    REQUIRE(type != reply.headers.end());
    CHECK(type->second.rfind("application/json", 0) == 0);
    boost::system::error_code ec;
    boost::json::value body = boost::json::parse(reply.body, ec);
    REQUIRE_FALSE(ec);
    REQUIRE(body.is_object());
    const auto& o = body.as_object();
    CHECK(o.size() == 2);
    REQUIRE(o.contains("success"));
    CHECK(o.at("success") == false);
    REQUIRE(o.contains("errors"));
    REQUIRE(o.at("errors").is_array());
    REQUIRE(o.at("errors").as_array().size() == 1);
    const auto& e = o.at("errors").as_array()[0];
    REQUIRE(e.is_object());
    REQUIRE(e.as_object().contains("error_code"));
    REQUIRE(e.as_object().contains("message"));
    REQUIRE(e.as_object().contains("details"));
    CHECK(e.at("error_code") == code.c_str());
    REQUIRE(e.at("message").is_string());
    CHECK_FALSE(e.at("message").as_string().empty());
    REQUIRE(e.at("details").is_object());
    if (!field.empty()) {
        REQUIRE(e.at("details").as_object().contains("field"));
        CHECK(e.at("details").at("field") == field.c_str());
        // People read the message, not the details: it names the field too.
        CHECK(std::string(e.at("message").as_string()).find(field) != std::string::npos);
    }
}

// GET /v1/users/{path_id} with the daemon's secret key.
boost::json::object get_user(const test_daemon& daemon, const std::string& path_id)
{
    auto r = daemon.call("GET", "/v1/users/" + path_id);
    if (r.status != 200)
        return {};
    return r.json().as_object();
}

// The headers POST /v1/identify needs.
header_list identify_headers(const std::string& key, const std::string& scheme)
{
    return {{"Authorization", scheme + " " + key}, {"X-API-Version", "2020-09-22"}};
}

// POSTs a People API body (JSON text, apiKey included by the caller) to path.
http_reply people_post(const test_daemon& d, const std::string& path, const std::string& body)
{
    return http_call(d.port(), "POST", path, body, {{"Content-Type", "application/json"}});
}

} // namespace profiled::test
