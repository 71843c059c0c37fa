// The upload spool behind the store seam, on both engines: an upload written in pieces, sealed with its job,
// read back from any checkpoint by a second opening of the store, and gone once the job ends or was never recorded.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "common/store/postgres/postgres.hpp"
#include "common/store/store.hpp"
#include "tests/support/scratch_dir.hpp"
#include "tests/support/store_batches.hpp"
#include "tests/support/test_stores.hpp"

using namespace profiled;

namespace {

// n NDJSON rows of about 1 KB each ({"user_id":"u<i>","metadata":{"pad":"..."}}), every one ending in a newline.
std::vector<std::string> padded_rows(int n)
{
    std::vector<std::string> rows;
    for (int i = 0; i < n; ++i)
        rows.push_back(R"({"user_id":"u)" + std::to_string(i) + R"(","metadata":{"pad":")" +
                       std::string(1000 + i % 7, 'a' + i % 26) + "\"}}\n");
    return rows;
}

// A queued job of the project, its upload of size bytes and rows rows.
job_record queued_job(std::int64_t project, const std::string& job_id, std::size_t size, std::size_t rows)
{
    job_record j;
    j.job_id = job_id;
    j.project_id = project;
    j.file_size = static_cast<std::int64_t>(size);
    j.total_rows = static_cast<std::int64_t>(rows);
    j.submitted_at = 1000;
    return j;
}

// Every row a reader gives, with its line number.
std::vector<spool_row> read_all(spool_reader& reader)
{
    std::vector<spool_row> out;
    while (auto row = reader.next())
        out.push_back(*row);
    return out;
}

// Spools the rows as one upload in uneven appends and records its job; the writer of the store.
void spool_and_queue(upload_spool& spool, store_writer& writer, const job_record& job,
                     const std::vector<std::string>& rows)
{
    auto upload = spool.begin_upload(job.job_id);
    std::string pending;
    for (std::size_t i = 0; i < rows.size(); ++i) {
        pending += rows[i];
        // Appends of 1 to ~13 rows: pieces never line up with rows.
        if (pending.size() > 1000 * (1 + i % 13)) {
            upload->append(pending);
            pending.clear();
        }
    }
    upload->append(pending);
    auto last = upload->seal();
    test::apply_one(writer, insert_job{job, "", 0, std::move(last)});
}

// Whether the condition holds within a few seconds: pieces are written by a thread of the spool's own.
template <typename Condition>
bool eventually(Condition condition)
{
    for (int i = 0; i < 250; ++i) {
        if (condition())
            return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return condition();
}

} // namespace

TEST_CASE("an upload spooled in pieces is read back whole and from any checkpoint by another opening of the store",
          "[store][spool]")
{
    auto engine = GENERATE(test::sqlite, test::postgres);
    CAPTURE(test::engine_name(engine));
    test::scratch_store db(engine);
    test::scratch_dir spool_dir;
    auto writer = db->open_writer();
    std::int64_t project = writer->ensure_project("spooling", 1);
    auto rows = padded_rows(2600); // about 2.6 MB: three pieces in the database
    std::string all;
    for (const auto& r : rows)
        all += r;
    job_record job = queued_job(project, "job_spool_1", all.size(), rows.size());
    {
        auto spool = db->open_spool(spool_dir.path());
        spool_and_queue(*spool, *writer, job, rows);
    }

    // Another daemon's store and spool: the same database (and, for SQLite, the same directory).
    auto other = db.reopen();
    auto spool = other->open_spool(spool_dir.path());
    auto reader = spool->open_job(job.job_id, 0, 0);
    auto read = read_all(*reader);
    REQUIRE(read.size() == rows.size());
    for (std::size_t i = 0; i < rows.size(); i += 97) {
        CAPTURE(i);
        CHECK(read[i].text + "\n" == rows[i]);
        CHECK(read[i].line == static_cast<std::int64_t>(i + 1));
    }
    CHECK(read.back().end_offset == static_cast<std::int64_t>(all.size()));

    // A checkpoint in each piece and at the end resumes at the next row.
    for (std::size_t after :
         {std::size_t{0}, std::size_t{500}, std::size_t{1100}, std::size_t{2345}, rows.size() - 1}) {
        CAPTURE(after);
        auto resumed = spool->open_job(job.job_id, read[after].end_offset, read[after].line);
        auto rest = read_all(*resumed);
        REQUIRE(rest.size() == rows.size() - after - 1);
        if (!rest.empty()) {
            CHECK(rest.front().text + "\n" == rows[after + 1]);
            CHECK(rest.front().line == static_cast<std::int64_t>(after + 2));
        }
    }

    // The job's end takes its upload with it.
    test::apply_one(*writer, finish_job{job.job_id, job_status::done, std::nullopt, 2000});
    spool->remove_job(job.job_id);
    CHECK_THROWS_AS(spool->open_job(job.job_id, 0, 0)->next(), spool_error);
}

TEST_CASE("an upload whose job is not recorded leaves nothing in the spool", "[store][spool]")
{
    auto engine = GENERATE(test::sqlite, test::postgres);
    CAPTURE(test::engine_name(engine));
    std::string url = engine == test::postgres ? test::fresh_postgres_url() : std::string();
    test::scratch_dir data;
    std::unique_ptr<store> db = open_store(data.path(), url);
    test::scratch_dir spool_dir;
    auto spool = db->open_spool(spool_dir.path());
    auto rows = padded_rows(2200);
    auto count_left = [&] {
        std::int64_t n = 0;
        for (auto it = std::filesystem::directory_iterator(spool_dir.path());
             it != std::filesystem::directory_iterator(); ++it)
            ++n;
        if (!url.empty()) {
            pg_connection c(url);
            n += c.query("SELECT count(*) FROM spool_pieces").int64(0, 0) +
                 c.query("SELECT count(*) FROM spool_uploads").int64(0, 0);
        }
        return n;
    };

    SECTION("discarded mid-stream (the client went away)")
    {
        auto upload = spool->begin_upload("job_abandoned");
        for (const auto& r : rows)
            upload->append(r);
        CHECK(eventually([&] { return count_left() > 0; }));
        upload->discard();
        CHECK(eventually([&] { return count_left() == 0; }));
    }
    SECTION("dropped without a seal")
    {
        {
            auto upload = spool->begin_upload("job_dropped");
            for (const auto& r : rows)
                upload->append(r);
        }
        CHECK(eventually([&] { return count_left() == 0; }));
    }
    SECTION("its writer gone with its daemon: swept at the next start")
    {
        {
            // A spool (and its connection) of a daemon that dies mid-upload, never discarding.
            auto dying = db->open_spool(spool_dir.path());
            auto upload = dying->begin_upload("job_killed");
            for (const auto& r : rows)
                upload->append(r);
            // What a kill -9 leaves: what was written, by a writer that never cleans up, its connection gone.
            upload.release();
            CHECK(eventually([&] { return count_left() > 0; }));
        }
        if (engine == test::postgres) {
            // The backend of the dead connection needs a moment to go.
            for (int i = 0; i < 100 && spool->recover({}).removed == 0; ++i)
                std::this_thread::sleep_for(std::chrono::milliseconds(20));
        } else {
            spool->recover({});
        }
        CHECK(count_left() == 0);
    }
}

TEST_CASE("a job whose upload lost pieces while it was received is not recorded", "[store][spool]")
{
    std::string url = test::fresh_postgres_url();
    test::scratch_dir data;
    std::unique_ptr<store> db = open_store(data.path(), url);
    auto writer = db->open_writer();
    auto reader = db->open_reader();
    std::int64_t project = writer->ensure_project("spooling", 1);
    auto spool = db->open_spool(data.path());
    auto rows = padded_rows(2200);
    auto upload = spool->begin_upload("job_torn");
    for (const auto& r : rows)
        upload->append(r);
    auto last = upload->seal();
    REQUIRE(last);
    CHECK(last->number == 2);
    // What a sweep does when this daemon's spool connection went away mid-upload (and another daemon took the
    // writer for dead).
    pg_connection(url).query("DELETE FROM spool_pieces WHERE upload_id = 'job_torn' AND piece = 1");

    std::vector<store_operation> insert;
    insert.push_back(insert_job{queued_job(project, "job_torn", 1, rows.size()), "", 0, std::move(last)});
    auto outcome = writer->apply(insert);
    REQUIRE(outcome.front().refused);
    CHECK(outcome.front().refused->code == "upload_interrupted");
    CHECK(outcome.front().refused->kind == errc::unavailable);
    CHECK_FALSE(reader->find_job(project, "job_torn"));
}
