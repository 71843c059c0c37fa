// README's "Bulk row format": the example rows it shows are accepted as they stand and stored as described.
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "tests/support/api_checks.hpp"
#include "tests/support/bulk_jobs.hpp"
#include "tests/support/test_daemon.hpp"

using namespace profiled::test;

namespace {

// The bodies of the ```json blocks between heading and the next heading of any level.
std::vector<std::string> json_blocks_under(const std::string& heading)
{
    std::ifstream in(std::string(PROFILED_SOURCE_DIR) + "/README.md");
    std::ostringstream text;
    text << in.rdbuf();
    std::string readme = text.str();
    auto at = readme.find("\n" + heading + "\n");
    REQUIRE(at != std::string::npos);
    auto end = readme.find("\n#", at + heading.size() + 2);
    std::vector<std::string> blocks;
    for (auto start = readme.find("```json\n", at); start < end; start = readme.find("```json\n", start)) {
        start += 8;
        auto close = readme.find("```", start);
        blocks.push_back(readme.substr(start, close - start));
        start = close + 3;
    }
    return blocks;
}

} // namespace

TEST_CASE("the README's example bulk rows for users and companies are accepted and stored", "[readme][bulk]")
{
    auto blocks = json_blocks_under("### Bulk row format");
    REQUIRE(blocks.size() == 2);
    test_daemon d({"--rows-per-minute", "0"});
    auto users = upload_ndjson(d, "users", blocks[0]);
    REQUIRE(users.status == 202);
    auto companies = upload_ndjson(d, "companies", blocks[1]);
    REQUIRE(companies.status == 202);
    for (const auto* reply : {&users, &companies}) {
        auto job = wait_for_job_end(d, string_field(reply->json().as_object(), "job_id"));
        CHECK(string_field(job, "status") == "done");
        CHECK(job.at("total_rows") == 1);
        CHECK(job.at("failed_rows") == 0);
    }
    auto user = get_user(d, "user_001");
    CHECK(user.at("company_id") == "company_001");
    CHECK(user.at("properties").at("plan") == "pro");
    CHECK(user.at("properties").at("churned_at").is_null());
    auto company = d.call("GET", "/v1/companies/company_001");
    REQUIRE(company.status == 200);
    CHECK(company.json().at("properties").at("employees") == 250);
}
