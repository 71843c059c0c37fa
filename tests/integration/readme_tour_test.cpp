// The README's tour, run as written: its shell commands (with the port and paths of a test daemon) give the
// answers the README documents.
#include <cstdio>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <vector>

#include <boost/json/parse.hpp>
#include <catch2/catch.hpp>

#include "tests/support/api_checks.hpp"
#include "tests/support/test_daemon.hpp"

using namespace profiled::test;

namespace {

// One shell command from a README code block, continuation lines joined, with the comment lines after it.
struct readme_command {
    std::string text;
    std::vector<std::string> comments;
};

// README.md as text.
std::string readme_text()
{
    std::ifstream in(std::string(PROFILED_SOURCE_DIR) + "/README.md");
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// Every command in the README's ```sh blocks.
std::vector<readme_command> readme_commands(const std::string& readme)
{
    std::vector<readme_command> out;
    std::istringstream in(readme);
    std::string line;
    bool in_sh = false;
    bool continued = false;
    while (std::getline(in, line)) {
        if (line.rfind("```", 0) == 0) {
            in_sh = !in_sh && line == "```sh";
            continued = false;
            continue;
        }
        if (!in_sh)
            continue;
        if (continued) {
            out.back().text += " " + line;
        } else if (line.rfind("#", 0) == 0) {
            if (!out.empty())
                out.back().comments.push_back(line);
            continue;
        } else if (!line.empty()) {
            out.push_back({line, {}});
        }
        continued = !out.empty() && !out.back().text.empty() && out.back().text.back() == '\\';
        if (continued)
            out.back().text.pop_back();
    }
    return out;
}

// The body of the first ```json block after heading.
std::string json_block_after(const std::string& readme, const std::string& heading)
{
    auto at = readme.find(heading);
    REQUIRE(at != std::string::npos);
    auto start = readme.find("```json\n", at);
    REQUIRE(start != std::string::npos);
    start += 8;
    auto end = readme.find("```", start);
    return readme.substr(start, end - start);
}

// Every occurrence of from in text replaced by to.
std::string replace_all(std::string text, const std::string& from, const std::string& to)
{
    for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
        text.replace(at, from.size(), to);
    return text;
}

// Runs command with /bin/sh, with KEY exported; its exit code and stdout.
command_result run_shell(const std::string& command, const std::string& key)
{
    // stderr is dropped: curl's progress meter would only clutter the test log.
    std::string full = "export KEY='" + key + "'; " + command + " 2>/dev/null";
    command_result r;
    FILE* p = ::popen(full.c_str(), "r");
    REQUIRE(p);
    char buffer[4096];
    std::size_t n;
    while ((n = std::fread(buffer, 1, sizeof buffer, p)) > 0)
        r.out.append(buffer, n);
    int status = ::pclose(p);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
}

// A regex for a README sample answer in which "…" stands for any text inside a JSON string.
std::regex sample_pattern(const std::string& sample)
{
    static const std::regex special(R"([.^$|()\[\]{}*+?\\])");
    std::string escaped = std::regex_replace(sample, special, R"(\$&)");
    return std::regex(replace_all(escaped, "\xe2\x80\xa6", "[^\"]*"));
}

// The sample answer written as "# ..." comment lines under a command, joined into one line.
std::string sample_answer(const readme_command& c)
{
    std::string joined;
    for (auto line : c.comments) {
        line.erase(0, 1);
        line.erase(0, line.find_first_not_of(' '));
        joined += line;
    }
    return joined;
}

} // namespace

TEST_CASE("the README tour works as written", "[readme][integration]")
{
    test_daemon d;
    std::string readme = readme_text();
    REQUIRE_FALSE(readme.empty());
    auto commands = readme_commands(readme);
    std::string created_key;
    int creates = 0, lists = 0, revokes = 0, identifies = 0, user_reads = 0, company_reads = 0;

    for (const auto& c : commands) {
        // The scripts install packages and build into build/; the tour's KEY comes from the test daemon instead.
        if (c.text.rfind("./scripts/", 0) == 0 || c.text.rfind("KEY=", 0) == 0)
            continue;
        std::string command = replace_all(c.text, "./build/bin/profiled", PROFILED_BINARY);
        command = replace_all(command, "./var", d.data_dir());
        // On PostgreSQL the tour's commands use the test daemon's database, as an operator's would.
        if (!d.database().empty())
            command = "export PROFILED_DATABASE='" + d.database() + "'; " + command;
        command = replace_all(command, "http://127.0.0.1:8080", "http://127.0.0.1:" + std::to_string(d.port()));
        // The revoke example names a made-up prefix: revoke the key the tour itself created.
        if (!created_key.empty())
            command = replace_all(command, "sk_AbCdEfGh", created_key.substr(0, 11));
        CAPTURE(c.text, command);
        auto r = run_shell(command, d.secret_key());
        CAPTURE(r.out);
        CHECK(r.exit_code == 0);

        if (command.find(" keys create ") != std::string::npos) {
            ++creates;
            created_key = r.out.substr(0, r.out.find('\n'));
            CHECK(created_key.rfind("sk_", 0) == 0);
            CHECK(created_key.size() == 43);
            CHECK(r.out == created_key + "\n");
            // The new key works against the running daemon straight away.
            CHECK(http_call(d.port(), "GET", "/v1/users/x", "", {{"Authorization", "Token " + created_key}}).status ==
                  404);
        } else if (command.find(" keys list ") != std::string::npos) {
            ++lists;
            REQUIRE_FALSE(created_key.empty());
            CHECK(r.out.find(created_key.substr(0, 11)) != std::string::npos);
            CHECK(r.out.find(created_key) == std::string::npos);
            CHECK(r.out.find(d.secret_key()) == std::string::npos);
        } else if (command.find(" keys revoke ") != std::string::npos) {
            ++revokes;
            CHECK(r.out == "revoked 1 key\n");
            // "Keys take effect at once": the revoked key is refused by the running daemon (on PostgreSQL within a
            // second, the NOTIFY's bound).
            await_key_change(
                [&] {
                    return http_call(d.port(), "GET", "/v1/users/x", "", {{"Authorization", "Token " + created_key}})
                        .status;
                },
                401);
            check_error(http_call(d.port(), "GET", "/v1/users/x", "", {{"Authorization", "Token " + created_key}}), 401,
                        "unauthorized");
        } else if (command.find("/v1/identify") != std::string::npos) {
            ++identifies;
            // curl -i: the status line, headers, a blank line, then the body.
            CHECK(r.out.rfind("HTTP/1.1 202", 0) == 0);
            CHECK(r.out.substr(r.out.size() - 2) == "{}");
        } else if (command.find("/v1/users/") != std::string::npos) {
            ++user_reads;
            std::string sample = sample_answer(c);
            CAPTURE(sample);
            REQUIRE_FALSE(sample.empty());
            CHECK(std::regex_match(r.out, sample_pattern(sample)));
        } else if (command.find("/v1/companies/") != std::string::npos) {
            ++company_reads;
            auto company = boost::json::parse(r.out);
            CHECK(company.at("company_id") == "company_001");
            CHECK(company.at("properties").is_object());
        } else {
            FAIL_CHECK("the README has a command this test does not know how to check");
        }
    }
    CHECK(creates == 1);
    CHECK(lists == 1);
    CHECK(revokes == 1);
    CHECK(identifies == 1);
    CHECK(user_reads == 1);
    CHECK(company_reads == 1);
}

TEST_CASE("the README's error example is what a missing user_id gets", "[readme][integration]")
{
    test_daemon d;
    std::string sample = json_block_after(readme_text(), "## Errors");
    auto r = d.identify(R"({"metadata":{"name":"Jane Doe"}})");
    CHECK(r.status == 400);
    CHECK(boost::json::parse(r.body) == boost::json::parse(sample));
}
