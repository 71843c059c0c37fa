// Broken infrastructure under the real daemon: a full spool disk, a locked, moved or deleted database, spool
// files deleted, corrupted or cut short under queued jobs. Each fails the request or the job clearly; the daemon
// keeps serving.
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <string>
#include <string_view>
#include <sys/mount.h>
#include <thread>

#include <catch2/catch.hpp>

#include "common/store/sqlite/sqlite.hpp"
#include "tests/support/api_checks.hpp"
#include "tests/support/bulk_jobs.hpp"
#include "tests/support/test_daemon.hpp"

using namespace profiled::test;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

// A small tmpfs mounted over a directory for the life of the object (lazily unmounted, so it never fails).
class small_tmpfs {
public:
    small_tmpfs(std::string dir, const std::string& size) : dir_(std::move(dir))
    {
        std::string options = "size=" + size + ",mode=0700";
        if (::mount("tmpfs", dir_.c_str(), "tmpfs", 0, options.c_str()) == 0)
            mounted_ = true;
        else
            error_ = std::strerror(errno);
    }
    ~small_tmpfs()
    {
        if (mounted_)
            ::umount2(dir_.c_str(), MNT_DETACH);
    }
    small_tmpfs(const small_tmpfs&) = delete;
    small_tmpfs& operator=(const small_tmpfs&) = delete;

    bool mounted() const { return mounted_; }
    const std::string& error() const { return error_; }

private:
    std::string dir_;
    bool mounted_ = false;
    std::string error_;
};

// n NDJSON user rows "prefix<i>", each carrying pad_bytes of padding so the upload reaches a given size.
std::string padded_rows(int n, const std::string& prefix, std::size_t pad_bytes)
{
    std::string pad(pad_bytes, 'p');
    std::string out;
    for (int i = 0; i < n; ++i)
        out += "{\"user_id\":\"" + prefix + std::to_string(i) + "\",\"metadata\":{\"i\":" + std::to_string(i) +
               ",\"pad\":\"" + pad + "\"}}\n";
    return out;
}

// The spool dir's files other than the test's own filler.
std::vector<std::string> daemon_spool_files(const test_daemon& d)
{
    auto names = spool_files(d);
    std::erase(names, "filler.bin");
    return names;
}

// Writes a file of the given size (or as much as fits) and returns how many bytes went in.
std::size_t write_filler(const std::string& path, std::size_t bytes)
{
    std::ofstream out(path, std::ios::binary);
    std::string block(64 * 1024, 'f');
    std::size_t written = 0;
    while (written < bytes && out.write(block.data(), static_cast<std::streamsize>(std::min(block.size(), bytes - written))))
        written += std::min(block.size(), bytes - written);
    return written;
}

// A single write and a read: the daemon still serves while the fault lasts.
void check_single_writes_and_reads(const test_daemon& d, const std::string& user_id)
{
    auto w = d.identify("{\"user_id\":\"" + user_id + "\",\"metadata\":{\"still\":\"serving\"}}");
    CHECK(w.status == 202);
    auto u = get_user(d, user_id);
    REQUIRE_FALSE(u.empty());
    CHECK(u.at("properties").at("still") == "serving");
    CHECK(http_call(d.port(), "GET", "/healthz").status == 200);
}

// The first log line with one of these event names that appears within timeout_ms, or an empty object.
boost::json::object wait_for_any_event(const test_daemon& d, std::initializer_list<std::string_view> events,
                                       int timeout_ms = 10000)
{
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
        for (auto& line : d.log_lines()) {
            auto it = line.find("event");
            if (it == line.end() || !it->value().is_string())
                continue;
            std::string_view name = it->value().as_string();
            if (std::find(events.begin(), events.end(), name) != events.end())
                return line;
        }
        if (std::chrono::steady_clock::now() >= deadline)
            return {};
        std::this_thread::sleep_for(50ms);
    }
}

// The job id in a 202 answer to an upload.
std::string job_id_of(const http_reply& r) { return std::string(r.json().at("job_id").as_string()); }

// Waits (up to 10 s) until the upload's job is claimed and running, so that a fault made next meets its chunks
// rather than its claim (a failed claim waits for the next claim round, 10 s later).
void wait_until_running(const test_daemon& d, const http_reply& upload)
{
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (string_field(fetch_job(d, job_id_of(upload)), "status") != "running" &&
           std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
}

} // namespace

// SQLite only: it looks at the spool's files in the data dir; with PostgreSQL the spool is in the database
// (tests/integration/database_spool_test.cpp and cluster_test.cpp cover it there).
TEST_CASE("a full spool disk refuses uploads with 507, keeps no part file, and recovers when space returns",
          "[faults][disk][sqlite_only][integration]")
{
    test_daemon d({"--rows-per-minute", "0"});
    d.stop();
    std::string spool = d.data_dir() + "/spool";
    small_tmpfs disk(spool, "2m");
    if (!disk.mounted()) {
        WARN("SKIPPED: cannot mount a 2 MB tmpfs at the spool dir (needs root / CAP_SYS_ADMIN): " << disk.error());
        return;
    }
    d.start();

    SECTION("an upload larger than the whole disk")
    {
        auto big = padded_rows(3000, "big", 1000); // about 3 MB of rows onto a 2 MB disk
        auto r = upload_ndjson(d, "users", big);
        check_error(r, 507, "disk_full");
        CHECK(r.error_message().find("disk is full") != std::string::npos);
        CHECK(daemon_spool_files(d).empty());
        check_single_writes_and_reads(d, "during-full");

        // A small upload fits and is processed.
        auto small = upload_ndjson(d, "users", padded_rows(10, "small", 10));
        REQUIRE(small.status == 202);
        auto job = wait_for_job_end(d, job_id_of(small));
        CHECK(string_field(job, "status") == "done");
        CHECK(int_field(job, "processed_rows") == 10);
    }

    SECTION("an upload that does not fit until a filler file is removed")
    {
        std::string filler = spool + "/filler.bin";
        write_filler(filler, 2 * 1024 * 1024 - 256 * 1024); // leaves about 256 KB
        auto rows = padded_rows(600, "mid", 1000);           // about 600 KB
        auto refused = upload_ndjson(d, "users", rows);
        check_error(refused, 507, "disk_full");
        CHECK(daemon_spool_files(d).empty());
        check_single_writes_and_reads(d, "while-full");
        CHECK(get_user(d, "mid0").empty());

        fs::remove(filler);
        auto accepted = upload_ndjson(d, "users", rows);
        REQUIRE(accepted.status == 202);
        auto job = wait_for_job_end(d, job_id_of(accepted));
        CHECK(string_field(job, "status") == "done");
        CHECK(int_field(job, "processed_rows") == 600);
        CHECK(int_field(job, "failed_rows") == 0);
        CHECK(get_user(d, "mid599").at("properties").at("i") == 599);
    }
    CHECK(d.stop() == 0);
}

// SQLite only: SQLite's file lock and busy timeout (PostgreSQL locks rows, and a writer waits for them).
TEST_CASE("a database locked by another process: writes wait for the busy timeout then get 503, reads and jobs go on",
          "[faults][database][sqlite_only][integration]")
{
    // One bulk row per second, so the job is still running while the lock is held.
    test_daemon d({"--rows-per-minute", "60", "--rows-burst", "1"});
    REQUIRE(d.identify(R"({"user_id":"before-lock","metadata":{"v":1}})").status == 202);
    auto up = upload_ndjson(d, "users", user_rows(4, 0, "resumed"));
    REQUIRE(up.status == 202);
    wait_until_running(d, up);
    {
        // Another process (here, another connection) takes the write lock and holds it.
        profiled::sqlite_connection other(d.data_dir() + "/profiled.db", false);
        other.exec("BEGIN EXCLUSIVE");

        // Reads do not need the write lock.
        auto u = get_user(d, "before-lock");
        REQUIRE_FALSE(u.empty());
        CHECK(u.at("properties").at("v") == 1);

        // A write waits for the lock (the busy timeout), then fails clearly instead of hanging or answering 500.
        auto w = d.identify(R"({"user_id":"during-lock","metadata":{"v":2}})");
        check_error(w, 503, "database_busy");
        CHECK(w.error_message().find("locked") != std::string::npos);
        CHECK(http_call(d.port(), "GET", "/healthz").status == 200);
        // The job's chunk commit failed the same way; the runner logs it and retries.
        CHECK_FALSE(d.wait_for_event("job.chunk_failed", 15000).empty());
        other.exec("ROLLBACK");
    }
    // The lock is gone: writes work again and the job finishes with every row applied once.
    CHECK(d.identify(R"({"user_id":"after-lock","metadata":{"v":3}})").status == 202);
    CHECK(get_user(d, "after-lock").at("properties").at("v") == 3);
    CHECK(get_user(d, "during-lock").empty());
    auto job = wait_for_job_end(d, job_id_of(up), 30000);
    CHECK(string_field(job, "status") == "done");
    CHECK(int_field(job, "processed_rows") == 4);
    CHECK(int_field(job, "failed_rows") == 0);
    CHECK(get_user(d, "u3").at("properties").at("tag") == "resumed");
    CHECK(d.stop() == 0);
}

// SQLite only: profiled.db moved away under the daemon.
TEST_CASE("a database file moved away under the daemon: writes get 503 instead of landing in a lost file",
          "[faults][database][sqlite_only][integration]")
{
    test_daemon d;
    REQUIRE(d.identify(R"({"user_id":"before-move","metadata":{"v":1}})").status == 202);
    fs::path db = fs::path(d.data_dir()) / "profiled.db";
    fs::path aside = fs::path(d.data_dir()) / "profiled.db.aside";
    fs::rename(db, aside);

    auto w = d.identify(R"({"user_id":"while-moved","metadata":{"v":2}})");
    check_error(w, 503, "database_unwritable");
    auto up = upload_ndjson(d, "users", user_rows(3, 0, "moved"));
    check_error(up, 503, "database_unwritable");
    CHECK(daemon_spool_files(d).empty());
    CHECK(http_call(d.port(), "GET", "/healthz").status == 200);
    // Logged where the fault was met: in the writer, or already at the key check when the key cache looked at the
    // database again.
    auto logged = wait_for_any_event(d, {"writer.commit_failed", "handler.exception"});
    REQUIRE_FALSE(logged.empty());
    CHECK(logged.at("msg").as_string().find("renamed") != std::string::npos);
    CHECK(logged.at("failure") == "unwritable");

    // The file is back: writes work again, and nothing was acknowledged into the moved file.
    fs::rename(aside, db);
    CHECK(d.identify(R"({"user_id":"after-move","metadata":{"v":3}})").status == 202);
    CHECK(d.stop() == 0);
    d.start();
    CHECK(get_user(d, "before-move").at("properties").at("v") == 1);
    CHECK(get_user(d, "after-move").at("properties").at("v") == 3);
    CHECK(get_user(d, "while-moved").empty());
    CHECK(d.stop() == 0);
}

// SQLite only: profiled.db deleted under the daemon.
TEST_CASE("a database file deleted under the daemon: reads answer 503 like writes, until the file is back",
          "[faults][database][sqlite_only][integration]")
{
    // One bulk row per second, so the job is still running when the file goes.
    test_daemon d({"--rows-per-minute", "60", "--rows-burst", "1"});
    REQUIRE(d.identify(R"({"user_id":"before-delete","metadata":{"v":1}})").status == 202);
    auto up = upload_ndjson(d, "users", user_rows(4, 0, "kept"));
    REQUIRE(up.status == 202);
    wait_until_running(d, up);
    fs::path db = fs::path(d.data_dir()) / "profiled.db";
    fs::path kept = fs::path(d.data_dir()) / "profiled.db.kept";
    // A second name keeps the file to put back; the name the daemon opened is gone.
    fs::create_hard_link(db, kept);
    fs::remove(db);

    // Reads would come from a file nobody writes any more: they fail as writes do, with the same answer.
    auto user = d.call("GET", "/v1/users/before-delete");
    check_error(user, 503, "database_unwritable");
    check_error(d.call("GET", "/v1/background_jobs"), 503, "database_unwritable");
    check_error(d.identify(R"({"user_id":"while-deleted","metadata":{"v":2}})"), 503, "database_unwritable");
    check_error(upload_ndjson(d, "users", user_rows(2, 100, "refused")), 503, "database_unwritable");
    CHECK(http_call(d.port(), "GET", "/healthz").status == 200);
    // The cause is in the log with its kind, and not in the answer.
    CHECK(user.error_message().find("profiled.db") == std::string::npos);
    auto logged = d.wait_for_event("handler.exception");
    CHECK(logged.at("msg").as_string().find("deleted or renamed") != std::string::npos);
    CHECK(logged.at("failure") == "unwritable");
    // The job's chunk commits meet the same fault in the writer; the runner keeps its checkpoint and retries.
    auto commit = d.wait_for_event("writer.commit_failed", 15000);
    REQUIRE_FALSE(commit.empty());
    CHECK(commit.at("failure") == "unwritable");
    CHECK_FALSE(d.wait_for_event("job.chunk_failed", 15000).empty());

    // The file is back under its name: reads and writes work again, and the job ends with every row once.
    fs::rename(kept, db);
    CHECK(get_user(d, "before-delete").at("properties").at("v") == 1);
    CHECK(d.identify(R"({"user_id":"after-delete","metadata":{"v":3}})").status == 202);
    auto job = wait_for_job_end(d, job_id_of(up), 30000);
    CHECK(string_field(job, "status") == "done");
    CHECK(int_field(job, "processed_rows") == 4);
    CHECK(int_field(job, "failed_rows") == 0);
    CHECK(get_user(d, "u3").at("properties").at("tag") == "kept");
    CHECK(get_user(d, "while-deleted").empty());
    CHECK(get_user(d, "u100").empty());
    CHECK(daemon_spool_files(d).empty());
    CHECK(d.stop() == 0);
}

// SQLite only: it looks at the spool's files in the data dir; with PostgreSQL the spool is in the database
// (tests/integration/database_spool_test.cpp and cluster_test.cpp cover it there).
TEST_CASE("spool files deleted, corrupted or cut short under queued jobs fail clearly, and the daemon keeps serving",
          "[faults][spool][sqlite_only][integration]")
{
    // One row per second: the first job holds the queue while the others' spool files are damaged.
    test_daemon d({"--rows-per-minute", "60", "--rows-burst", "1"});
    auto blocker = upload_ndjson(d, "users", user_rows(3, 0, "blocker"));
    REQUIRE(blocker.status == 202);

    auto deleted = upload_ndjson(d, "users", user_rows(2, 100, "deleted"));
    auto corrupt = upload_ndjson(d, "users", user_rows(3, 200, "corrupt"));
    auto cut = upload_ndjson(d, "users", user_rows(4, 300, "cut"));
    REQUIRE(deleted.status == 202);
    REQUIRE(corrupt.status == 202);
    REQUIRE(cut.status == 202);
    fs::path spool = fs::path(d.data_dir()) / "spool";
    auto file_of = [&](const http_reply& r) { return spool / (job_id_of(r) + ".ndjson"); };

    // Still queued behind the blocker: damage their spool files.
    REQUIRE(string_field(fetch_job(d, job_id_of(deleted)), "status") == "queued");
    fs::remove(file_of(deleted));
    {
        // Line 2 becomes garbage of the same length (NUL, invalid UTF-8, broken JSON), keeping the newlines.
        std::fstream f(file_of(corrupt), std::ios::in | std::ios::out | std::ios::binary);
        std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
        auto second = text.find('\n') + 1;
        auto length = text.find('\n', second) - second;
        std::string garbage(length, '#');
        garbage[0] = '\0';
        garbage[1] = '\xff';
        garbage[2] = '{';
        f.seekp(static_cast<std::streamoff>(second));
        f.write(garbage.data(), static_cast<std::streamsize>(garbage.size()));
    }
    {
        // Only the first two of four rows survive.
        std::ifstream in(file_of(cut), std::ios::binary);
        std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        auto end_of_second = text.find('\n', text.find('\n') + 1) + 1;
        fs::resize_file(file_of(cut), end_of_second);
    }
    check_single_writes_and_reads(d, "while-damaged");

    auto b = wait_for_job_end(d, job_id_of(blocker));
    CHECK(string_field(b, "status") == "done");

    auto del = wait_for_job_end(d, job_id_of(deleted));
    CHECK(string_field(del, "status") == "failed");
    CHECK(string_field(del, "error").find("spool file is missing") != std::string::npos);
    CHECK(int_field(del, "processed_rows") == 0);
    CHECK(get_user(d, "u100").empty());

    auto cor = wait_for_job_end(d, job_id_of(corrupt));
    CHECK(string_field(cor, "status") == "done");
    CHECK(int_field(cor, "processed_rows") == 3);
    CHECK(int_field(cor, "failed_rows") == 1);
    auto errors = d.call("GET", "/v1/background_jobs/" + job_id_of(corrupt) + "/errors");
    REQUIRE(errors.status == 200);
    auto body = errors.json();
    const auto& list = body.at("errors").as_array();
    REQUIRE(list.size() == 1);
    CHECK(list[0].at("line") == 2);
    CHECK_FALSE(list[0].at("message").as_string().empty());
    CHECK(get_user(d, "u200").at("properties").at("tag") == "corrupt");
    CHECK(get_user(d, "u201").empty());
    CHECK(get_user(d, "u202").at("properties").at("tag") == "corrupt");

    auto c = wait_for_job_end(d, job_id_of(cut));
    CHECK(string_field(c, "status") == "failed");
    CHECK(string_field(c, "error").find("ended after 2 of 4 rows") != std::string::npos);
    CHECK(get_user(d, "u301").at("properties").at("tag") == "cut");

    // Every ended job's spool file is gone, and the daemon still serves.
    CHECK(daemon_spool_files(d).empty());
    check_single_writes_and_reads(d, "after-damage");
    CHECK(d.stop() == 0);
}
