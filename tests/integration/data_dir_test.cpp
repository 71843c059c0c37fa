// One daemon per data directory; the offline commands beside it; and one clear line, exit 1, for a data directory
// or database that cannot be used (missing, not a directory, not a file, not writable by the daemon's user).
#include <cctype>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <pwd.h>
#include <string>
#include <unistd.h>
#include <vector>

#include <catch2/catch.hpp>

#include "tests/support/api_checks.hpp"

#include "tests/support/http_client.hpp"
#include "tests/support/test_daemon.hpp"
#include "tests/support/timed_command.hpp"

using namespace profiled::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

// True when part occurs in text.
bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// The non-empty lines of text.
std::vector<std::string> lines_of(const std::string& text)
{
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start < text.size()) {
        auto end = text.find('\n', start);
        if (end == std::string::npos)
            end = text.size();
        if (end > start)
            out.push_back(text.substr(start, end - start));
        start = end + 1;
    }
    return out;
}

// True when text names pid as a whole number (so pid 12 is not found in "pid 123").
bool names_pid(const std::string& text, pid_t pid)
{
    std::string number = std::to_string(pid);
    for (auto at = text.find(number); at != std::string::npos; at = text.find(number, at + 1)) {
        bool starts = at == 0 || !std::isdigit(static_cast<unsigned char>(text[at - 1]));
        bool ends = at + number.size() == text.size() || !std::isdigit(static_cast<unsigned char>(text[at + number.size()]));
        if (starts && ends)
            return true;
    }
    return false;
}

// `profiled serve` on data_dir and a free port, in the default (logfmt) log format an operator reads.
std::vector<std::string> serve_args(const std::string& data_dir)
{
    return {"serve", "--listen", "127.0.0.1:0", "--data-dir", data_dir};
}

// The key `keys create` printed, without its line end.
std::string printed_key(const std::string& out) { return lines_of(out).empty() ? "" : lines_of(out)[0]; }

// A POST /v1/identify with the given key.
http_reply identify_with(const test_daemon& d, const std::string& key)
{
    return http_call(d.port(), "POST", "/v1/identify", R"({"user_id":"u1","metadata":{"plan":"pro"}})",
                     {{"Authorization", "Token " + key}, {"X-API-Version", "2020-09-22"}});
}

// Checks the refusal an operator should see: exit 1 at once, one line on stderr naming what, no C++ or SQLite
// internals, and (for serve) never ready.
void check_one_clear_line(const timed_result& r, const std::string& names, const std::string& says)
{
    CAPTURE(r.out, r.err, r.exit_code);
    REQUIRE_FALSE(r.timed_out);
    CHECK(r.exit_code == 1);
    CHECK(lines_of(r.err).size() == 1);
    CHECK(has(r.err, names));
    CHECK(has(r.err, says));
    CHECK_FALSE(has(r.err, "filesystem error"));
    CHECK_FALSE(has(r.err, "sqlite"));
    CHECK_FALSE(has(r.err, "server.ready"));
}

} // namespace

TEST_CASE("a second daemon on the same data directory exits 1 naming the PID of the first, which keeps serving",
          "[datadir][integration]")
{
    test_daemon first;
    auto second = run_profiled_within(serve_args(first.data_dir()), {.timeout = 10s});
    CAPTURE(second.err);
    REQUIRE_FALSE(second.timed_out);
    CHECK(second.exit_code == 1);
    CHECK(lines_of(second.err).size() == 1);
    CHECK(has(second.err, "server.failed"));
    CHECK(has(second.err, first.data_dir()));
    CHECK(names_pid(second.err, first.pid()));
    // Refused before recovery: it never took up the first daemon's jobs, nor listened.
    CHECK_FALSE(has(second.err, "jobs.recovered"));
    CHECK_FALSE(has(second.err, "server.ready"));

    CHECK(http_call(first.port(), "GET", "/readyz").status == 200);
    CHECK(first.identify(R"({"user_id":"u1","metadata":{"plan":"pro"}})").status == 202);

    SECTION("after it stops, a new daemon starts on the directory")
    {
        CHECK(first.stop() == 0);
        REQUIRE_NOTHROW(first.start());
        CHECK(http_call(first.port(), "GET", "/readyz").status == 200);
    }
    SECTION("after it is killed, the lock file it leaves behind does not keep a new daemon out")
    {
        first.stop(SIGKILL);
        REQUIRE_NOTHROW(first.start());
        CHECK(http_call(first.port(), "GET", "/readyz").status == 200);
        CHECK(first.identify(R"({"user_id":"u2","metadata":{"plan":"free"}})").status == 202);
    }
}

TEST_CASE("keys create, list, revoke and jobs list work beside a running daemon", "[datadir][integration]")
{
    test_daemon d;
    run_limits quick{.timeout = 10s};
    auto created = run_profiled_within({"keys", "create", "--data-dir", d.data_dir(), "--project", "acme"}, quick);
    CAPTURE(created.err);
    REQUIRE_FALSE(created.timed_out);
    REQUIRE(created.exit_code == 0);
    std::string key = printed_key(created.out);
    CHECK(identify_with(d, key).status == 202);

    auto listed = run_profiled_within({"keys", "list", "--data-dir", d.data_dir()}, quick);
    CAPTURE(listed.err);
    REQUIRE_FALSE(listed.timed_out);
    CHECK(listed.exit_code == 0);
    CHECK(has(listed.out, key.substr(0, 11)));

    auto revoked = run_profiled_within({"keys", "revoke", "--data-dir", d.data_dir(), key.substr(0, 11)}, quick);
    CAPTURE(revoked.err);
    REQUIRE_FALSE(revoked.timed_out);
    CHECK(revoked.exit_code == 0);
    await_key_change([&] { return identify_with(d, key).status; }, 401);
    CHECK(identify_with(d, key).status == 401);

    auto jobs = run_profiled_within({"jobs", "list", "--data-dir", d.data_dir()}, quick);
    CAPTURE(jobs.err);
    REQUIRE_FALSE(jobs.timed_out);
    CHECK(jobs.exit_code == 0);
    CHECK(has(jobs.out, "JOB_ID"));

    CHECK(d.identify(R"({"user_id":"u3","metadata":{}})").status == 202);
}

// SQLite only: whether profiled.db is created in the data directory; a PostgreSQL database is made by its operator.
TEST_CASE("keys list and keys revoke never create a database but keys create does",
          "[datadir][sqlite_only][integration]")
{
    temp_dir dir;
    std::vector<std::string> command = GENERATE(std::vector<std::string>{"keys", "list"},
                                                std::vector<std::string>{"keys", "revoke", "sk_Abcdefgh"});
    CAPTURE(command);

    SECTION("PROFILED_DATA_DIR is an empty directory")
    {
        std::string db = dir.path() + "/profiled.db";
        auto r = run_profiled_within(command, {.env = {"PROFILED_DATA_DIR=" + dir.path()}});
        CAPTURE(r.out, r.err);
        REQUIRE_FALSE(r.timed_out);
        CHECK(r.exit_code != 0);
        CHECK(has(r.err, db));
        CHECK(lines_of(r.err).size() == 1);
        CHECK_FALSE(fs::exists(db));
    }
    SECTION("PROFILED_DATA_DIR does not exist")
    {
        std::string missing = dir.path() + "/no/such/dir";
        auto r = run_profiled_within(command, {.env = {"PROFILED_DATA_DIR=" + missing}});
        CAPTURE(r.out, r.err);
        REQUIRE_FALSE(r.timed_out);
        CHECK(r.exit_code != 0);
        CHECK(has(r.err, missing + "/profiled.db"));
        CHECK(lines_of(r.err).size() == 1);
        CHECK_FALSE(fs::exists(dir.path() + "/no"));
    }
    SECTION("keys create makes the directory and the database (scripts bootstrap so)")
    {
        std::string fresh = dir.path() + "/new/data";
        auto r = run_profiled_within({"keys", "create"}, {.env = {"PROFILED_DATA_DIR=" + fresh}});
        CAPTURE(r.err);
        CHECK(r.exit_code == 0);
        CHECK(fs::is_regular_file(fresh + "/profiled.db"));
    }
}

// SQLite only: profiled.db as a file in the data directory (on PostgreSQL the commands never open it).
TEST_CASE("a data directory that is a file, or a database that is a directory: one clear line, exit 1",
          "[datadir][sqlite_only][integration]")
{
    std::vector<std::string> command = GENERATE(
        std::vector<std::string>{"serve", "--listen", "127.0.0.1:0"}, std::vector<std::string>{"keys", "create"},
        std::vector<std::string>{"keys", "list"}, std::vector<std::string>{"keys", "revoke", "sk_Abcdefgh"},
        std::vector<std::string>{"jobs", "list"});
    temp_dir dir;

    SECTION("the data directory is a regular file")
    {
        std::string file = dir.path() + "/data";
        std::ofstream(file) << "not a directory\n";
        command.insert(command.end(), {"--data-dir", file});
        CAPTURE(command);
        check_one_clear_line(run_profiled_within(command, {.timeout = 10s}), file, "is not a directory");
    }
    SECTION("profiled.db is a directory")
    {
        std::string db = dir.path() + "/profiled.db";
        fs::create_directory(db);
        command.insert(command.end(), {"--data-dir", dir.path()});
        CAPTURE(command);
        check_one_clear_line(run_profiled_within(command, {.timeout = 10s}), db, "is not a database file");
    }
}

// SQLite only: file modes of profiled.db and its directory (and the test server's socket is not nobody's to use).
TEST_CASE("a data directory or database the daemon's user cannot write: start-up fails with one clear line",
          "[datadir][sqlite_only][integration]")
{
    // Root ignores file modes, so the daemon runs as nobody, as the service runs as its own user.
    if (auto why = cannot_run_as("nobody"); !why.empty()) {
        WARN("skipped, the daemon cannot run as another user here: " << why);
        return;
    }
    const passwd* nobody = ::getpwnam("nobody");
    temp_dir dir;
    // The directory and a root-owned 0644 database in it, as `sudo profiled keys create` leaves them.
    fs::permissions(dir.path(), fs::perms(0755));
    create_key(dir.path(), "default", "secret");
    std::string db = dir.path() + "/profiled.db";
    REQUIRE((fs::status(db).permissions() & fs::perms(0777)) == fs::perms(0644));
    run_limits as_nobody{.timeout = 10s, .user = "nobody"};

    SECTION("the data directory is root's, mode 0755")
    {
        auto r = run_profiled_within(serve_args(dir.path()), as_nobody);
        check_one_clear_line(r, dir.path(), "writable");
        CHECK_FALSE(fs::exists(dir.path() + "/spool"));
    }
    SECTION("the data directory is nobody's, the database root's, mode 0644")
    {
        REQUIRE(::chown(dir.path().c_str(), nobody->pw_uid, nobody->pw_gid) == 0);
        auto r = run_profiled_within(serve_args(dir.path()), as_nobody);
        check_one_clear_line(r, db, "not writable");
    }
}

// SQLite only: the offline commands open profiled.db in the data directory, on PostgreSQL they do not touch it.
TEST_CASE("the offline commands as a user who cannot write the data directory: one clear line, exit 1",
          "[datadir][sqlite_only][integration]")
{
    if (auto why = cannot_run_as("nobody"); !why.empty()) {
        WARN("skipped, profiled cannot run as another user here: " << why);
        return;
    }
    std::vector<std::string> command = GENERATE(
        std::vector<std::string>{"keys", "create"}, std::vector<std::string>{"keys", "list"},
        std::vector<std::string>{"keys", "revoke", "sk_Abcdefgh"}, std::vector<std::string>{"jobs", "list"});
    temp_dir dir;
    // Root's 0755 directory with root's 0644 database and no daemon running (so no -wal or -shm file).
    fs::permissions(dir.path(), fs::perms(0755));
    create_key(dir.path(), "default", "secret");
    command.insert(command.end(), {"--data-dir", dir.path()});
    CAPTURE(command);
    check_one_clear_line(run_profiled_within(command, {.timeout = 10s, .user = "nobody"}), dir.path(), "by this user");
}
