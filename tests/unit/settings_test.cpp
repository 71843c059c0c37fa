// `profiled serve` settings: flag > PROFILED_* environment > INI file > default, and refusals of bad input.
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "common/ops/settings.hpp"
#include "tests/support/scratch_dir.hpp"

extern char** environ;

using namespace profiled;
using profiled::test::scratch_dir;

namespace {

// Clears every PROFILED_* variable for the test's duration and puts the original environment back afterwards.
class profiled_environment {
public:
    profiled_environment()
    {
        saved_ = current();
        for (const auto& [name, value] : saved_)
            ::unsetenv(name.c_str());
    }
    ~profiled_environment()
    {
        for (const auto& [name, value] : current())
            ::unsetenv(name.c_str());
        for (const auto& [name, value] : saved_)
            ::setenv(name.c_str(), value.c_str(), 1);
    }
    profiled_environment(const profiled_environment&) = delete;
    profiled_environment& operator=(const profiled_environment&) = delete;

    // Sets one variable until the end of the test.
    void set(const std::string& name, const std::string& value) { ::setenv(name.c_str(), value.c_str(), 1); }

private:
    // The PROFILED_* variables set right now.
    static std::vector<std::pair<std::string, std::string>> current()
    {
        std::vector<std::pair<std::string, std::string>> out;
        for (char** e = environ; *e; ++e) {
            std::string entry(*e);
            auto eq = entry.find('=');
            if (entry.rfind("PROFILED_", 0) == 0 && eq != std::string::npos)
                out.emplace_back(entry.substr(0, eq), entry.substr(eq + 1));
        }
        return out;
    }

    std::vector<std::pair<std::string, std::string>> saved_;
};

// The message load_server_settings refuses args with ("" when it accepts them).
std::string refusal(const std::vector<std::string>& args)
{
    try {
        load_server_settings(args);
        return "";
    } catch (const std::runtime_error& e) {
        return e.what();
    }
}

} // namespace

TEST_CASE("with nothing given every setting has its default", "[config]")
{
    profiled_environment env;
    auto out = load_server_settings({});
    const server_settings& s = out.settings;
    CHECK_FALSE(out.show_help);
    CHECK(s.listen == "127.0.0.1:8080");
    CHECK(s.data_dir == "/var/lib/profiled");
    CHECK(s.format == log_format::logfmt);
    CHECK(s.level == log_level::info);
    CHECK_FALSE(s.access_log);
    CHECK(s.max_body_bytes == 1024 * 1024);
    CHECK(s.max_upload_bytes == 50ull * 1024 * 1024);
    CHECK(s.max_job_rows == 10000);
    CHECK(s.max_header_bytes == 16 * 1024);
    CHECK(s.rows_per_minute == 1200);
}

TEST_CASE("a flag beats the environment, which beats the config file, which beats the default", "[config]")
{
    profiled_environment env;
    scratch_dir dir;
    std::string ini = dir.write("profiled.ini", "# comments are fine\n"
                                                "data-dir = /from/file\n"
                                                "listen = 127.0.0.1:1111\n"
                                                "log-format = json\n"
                                                "max-body-bytes = 2048\n");

    SECTION("the file beats the defaults")
    {
        auto s = load_server_settings({"--config", ini}).settings;
        CHECK(s.data_dir == "/from/file");
        CHECK(s.listen == "127.0.0.1:1111");
        CHECK(s.format == log_format::json);
        CHECK(s.max_body_bytes == 2048);
        CHECK(s.level == log_level::info); // not in the file: the default
    }
    SECTION("the environment beats the file, key by key")
    {
        env.set("PROFILED_DATA_DIR", "/from/env");
        env.set("PROFILED_MAX_BODY_BYTES", "4096");
        auto s = load_server_settings({"--config", ini}).settings;
        CHECK(s.data_dir == "/from/env");
        CHECK(s.max_body_bytes == 4096);
        CHECK(s.listen == "127.0.0.1:1111");
        CHECK(s.format == log_format::json);
    }
    SECTION("a flag beats the environment and the file")
    {
        env.set("PROFILED_DATA_DIR", "/from/env");
        env.set("PROFILED_LISTEN", "127.0.0.1:2222");
        auto s = load_server_settings({"--config", ini, "--data-dir", "/from/flag", "--log-format=logfmt"}).settings;
        CHECK(s.data_dir == "/from/flag");
        CHECK(s.format == log_format::logfmt);
        CHECK(s.listen == "127.0.0.1:2222");
        CHECK(s.max_body_bytes == 2048);
    }
    SECTION("PROFILED_CONFIG names the file too")
    {
        env.set("PROFILED_CONFIG", ini);
        auto s = load_server_settings({}).settings;
        CHECK(s.data_dir == "/from/file");
        CHECK(s.max_body_bytes == 2048);
    }
    SECTION("--config beats PROFILED_CONFIG")
    {
        std::string other = dir.write("other.ini", "data-dir = /from/other\n");
        env.set("PROFILED_CONFIG", ini);
        CHECK(load_server_settings({"--config", other}).settings.data_dir == "/from/other");
    }
    SECTION("a default given explicitly as a flag still beats the environment")
    {
        env.set("PROFILED_LISTEN", "127.0.0.1:2222");
        CHECK(load_server_settings({"--listen", "127.0.0.1:8080"}).settings.listen == "127.0.0.1:8080");
    }
}

TEST_CASE("every setting can be given in each of the three ways", "[config]")
{
    profiled_environment env;
    scratch_dir dir;
    std::string option, value;
    std::tie(option, value) = GENERATE(table<std::string, std::string>({
        {"log-level", "debug"},
        {"access-log", "true"},
        {"max-upload-bytes", "1000"},
        {"max-job-rows", "7"},
        {"max-header-bytes", "9000"},
        {"rows-per-minute", "0"},
        {"rows-burst", "5"},
        {"read-timeout", "3"},
        {"idle-timeout", "4"},
        {"request-timeout", "5"},
        {"shutdown-grace", "2"},
        {"job-lease", "7"},
        {"log-timestamps", "off"},
    }));
    std::string variable = "PROFILED_" + option;
    for (auto& c : variable)
        c = c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    CAPTURE(option, variable);

    // Reads the one setting under test back as text.
    auto shown = [&](const server_settings& s) -> std::string {
        if (option == "log-level")
            return s.level == log_level::debug ? "debug" : "other";
        if (option == "access-log")
            return s.access_log ? "true" : "false";
        if (option == "max-upload-bytes")
            return std::to_string(s.max_upload_bytes);
        if (option == "max-job-rows")
            return std::to_string(s.max_job_rows);
        if (option == "max-header-bytes")
            return std::to_string(s.max_header_bytes);
        if (option == "rows-per-minute")
            return std::to_string(static_cast<int>(s.rows_per_minute));
        if (option == "rows-burst")
            return std::to_string(static_cast<int>(s.rows_burst));
        if (option == "read-timeout")
            return std::to_string(s.read_timeout_seconds);
        if (option == "idle-timeout")
            return std::to_string(s.idle_timeout_seconds);
        if (option == "request-timeout")
            return std::to_string(s.request_timeout_seconds);
        if (option == "job-lease")
            return std::to_string(s.job_lease_seconds);
        if (option == "log-timestamps")
            return s.log_timestamps ? "on" : "off";
        return std::to_string(s.shutdown_grace_seconds);
    };

    SECTION("as a flag")
    {
        CHECK(shown(load_server_settings({"--" + option + "=" + value}).settings) == value);
    }
    SECTION("as an environment variable")
    {
        env.set(variable, value);
        CHECK(shown(load_server_settings({}).settings) == value);
    }
    SECTION("as a config file key")
    {
        std::string ini = dir.write("p.ini", option + " = " + value + "\n");
        CHECK(shown(load_server_settings({"--config", ini}).settings) == value);
    }
}

TEST_CASE("the --help flag asks for the help text, which lists every option", "[config]")
{
    profiled_environment env;
    auto out = load_server_settings({"--help"});
    CHECK(out.show_help);
    for (const char* option : {"--listen", "--data-dir", "--config", "--log-format", "--max-body-bytes",
                               "--max-header-bytes", "--rows-per-minute"}) {
        CAPTURE(option);
        CHECK(out.help_text.find(option) != std::string::npos);
    }
    CHECK(load_server_settings({"-h"}).show_help);
}

TEST_CASE("unknown options and bad values are refused with a message naming them", "[config]")
{
    profiled_environment env;
    std::vector<std::string> args;
    std::string expected;
    std::tie(args, expected) = GENERATE(table<std::vector<std::string>, std::string>({
        {{"--no-such-option"}, "no-such-option"},
        {{"--listen"}, "listen"},
        {{"--max-body-bytes", "lots"}, "max-body-bytes"},
        {{"--max-body-bytes=-1"}, "max-body-bytes"},
        {{"--max-body-bytes", "0"}, "max-body-bytes"},
        {{"--max-header-bytes=-1"}, "max-header-bytes"},
        {{"--max-header-bytes=0"}, "max-header-bytes"},
        {{"--max-upload-bytes=-5"}, "max-upload-bytes"},
        {{"--max-job-rows=0"}, "max-job-rows"},
        {{"--read-timeout=-1"}, "read-timeout"},
        {{"--read-timeout=0"}, "read-timeout"},
        {{"--request-timeout=0"}, "request-timeout"},
        {{"--idle-timeout=0"}, "idle-timeout"},
        {{"--log-format", "xml"}, "log-format"},
        {{"--log-level", "loud"}, "log-level"},
        {{"--rows-per-minute=-1"}, "rows-per-minute"},
        {{"--rows-burst", "0"}, "rows-burst"},
        {{"--data-dir="}, "data-dir"},
        {{"--config", "/nonexistent/profiled.ini"}, "/nonexistent/profiled.ini"},
    }));
    CAPTURE(args);
    std::string message = refusal(args);
    CAPTURE(message);
    CHECK(message.find(expected) != std::string::npos);
}

TEST_CASE("bad values in the environment and the config file are refused too", "[config]")
{
    profiled_environment env;
    scratch_dir dir;

    SECTION("a bad environment value")
    {
        env.set("PROFILED_MAX_BODY_BYTES", "lots");
        CHECK(refusal({}).find("max-body-bytes") != std::string::npos);
    }
    SECTION("a negative environment value")
    {
        env.set("PROFILED_MAX_BODY_BYTES", "-1");
        CHECK(refusal({}).find("max-body-bytes") != std::string::npos);
    }
    SECTION("an unknown key in the config file names the key and the file")
    {
        std::string ini = dir.write("bad.ini", "data-dir = /x\nno-such-key = 1\n");
        std::string message = refusal({"--config", ini});
        CAPTURE(message);
        CHECK(message.find("no-such-key") != std::string::npos);
        CHECK(message.find(ini) != std::string::npos);
    }
    SECTION("a bad value in the config file names the key and the file")
    {
        std::string ini = dir.write("bad.ini", "max-header-bytes = big\n");
        std::string message = refusal({"--config", ini});
        CAPTURE(message);
        CHECK(message.find("max-header-bytes") != std::string::npos);
        CHECK(message.find(ini) != std::string::npos);
    }
    SECTION("PROFILED_ variables that name no setting are ignored")
    {
        env.set("PROFILED_SOMETHING_ELSE", "1");
        CHECK(refusal({}).empty());
    }
}

TEST_CASE("log-timestamps is on by default, takes on or off, and refuses anything else", "[config]")
{
    profiled_environment env;
    CHECK(load_server_settings({}).settings.log_timestamps);
    CHECK_FALSE(load_server_settings({"--log-timestamps=off"}).settings.log_timestamps);
    CHECK(load_server_settings({"--log-timestamps", "on"}).settings.log_timestamps);
    try {
        load_server_settings({"--log-timestamps=sometimes"});
        FAIL("sometimes was accepted");
    } catch (const std::runtime_error& e) {
        CHECK(std::string(e.what()).find("log-timestamps must be on or off") != std::string::npos);
    }
}

TEST_CASE("serve --help has a usage line without stray punctuation and names the environment", "[config][cli]")
{
    profiled_environment env;
    std::string help = load_server_settings({"--help"}).help_text;
    CHECK(help.rfind("Usage: profiled serve [options]\n", 0) == 0);
    CHECK(help.find("[options]:") == std::string::npos);
    CHECK(help.find("PROFILED_DATA_DIR") != std::string::npos);
    CHECK(help.find("PROFILED_CONFIG") != std::string::npos);
    CHECK(help.find("--log-timestamps on|off") != std::string::npos);
    CHECK(help.find(" arg ") == std::string::npos);
}
