// Cancelling jobs and keeping their processing time in the store, on both engines: a job nobody works on ends at
// once, a leased one keeps the request for its owner, whose next advance or renewal is refused.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "common/store/job_cancel.hpp"
#include "common/store/store.hpp"
#include "tests/support/store_batches.hpp"
#include "tests/support/test_stores.hpp"

using namespace profiled;

namespace {

// A store with two projects and a writer to queue, claim and cancel their jobs.
class cancel_store {
public:
    explicit cancel_store(test::store_engine engine)
        : db_(engine), writer_(db_->open_writer()), reader_(db_->open_reader())
    {
        mine = writer_->ensure_project("mine", 1);
        theirs = writer_->ensure_project("theirs", 1);
    }

    // Queues a job of 10 rows of the project.
    void queue(std::int64_t project, const std::string& job_id)
    {
        job_record j;
        j.job_id = job_id;
        j.project_id = project;
        j.total_rows = 10;
        j.file_size = 100;
        j.submitted_at = 100;
        test::apply_one(*writer_, insert_job{j, "", 0});
    }

    // The cancel's outcome: refused or with the job as it stands after it.
    operation_outcome cancel(std::int64_t project, const std::string& job_id, std::int64_t now)
    {
        std::vector<store_operation> batch;
        batch.push_back(cancel_job{project, job_id, now});
        return writer_->apply(batch).front();
    }

    job_record stored(const std::string& job_id)
    {
        auto j = reader_->find_job(mine, job_id);
        REQUIRE(j);
        return *j;
    }

    store_writer& writer() { return *writer_; }
    std::int64_t mine = 0, theirs = 0;

private:
    test::scratch_store db_;
    std::unique_ptr<store_writer> writer_;
    std::unique_ptr<store_reader> reader_;
};

} // namespace

TEST_CASE("a cancel ends a job nobody works on at once, and refuses ended and other projects' jobs", "[store][cancel]")
{
    auto engine = GENERATE(test::sqlite, test::postgres);
    CAPTURE(test::engine_name(engine));
    cancel_store s(engine);
    s.queue(s.mine, "job-1");

    auto other = s.cancel(s.theirs, "job-1", 500);
    REQUIRE(other.refused);
    CHECK(other.refused->code == "not_found");
    CHECK_FALSE(s.stored("job-1").cancel_requested_at);
    auto unknown = s.cancel(s.mine, "job-9", 500);
    REQUIRE(unknown.refused);
    CHECK(unknown.refused->code == "not_found");

    auto ended = s.cancel(s.mine, "job-1", 600);
    REQUIRE_FALSE(ended.refused);
    REQUIRE(ended.job);
    CHECK(ended.job->status == job_status::failed);
    CHECK(ended.job->error == std::optional<std::string>("cancelled"));
    CHECK(ended.job->cancel_requested_at == std::optional<std::int64_t>(600));
    CHECK(ended.job->finished_at == std::optional<std::int64_t>(600));
    CHECK(ended.job->processing_ms == 0);
    CHECK(s.stored("job-1").status == job_status::failed);
    // Ended: never claimed again, and a second cancel is refused.
    CHECK_FALSE(test::apply_one(s.writer(), claim_job{"daemon-a", -1, {}, 700, 1700}).job);
    auto again = s.cancel(s.mine, "job-1", 800);
    REQUIRE(again.refused);
    CHECK(again.refused->code == "job_finished");
    CHECK(again.refused->kind == errc::conflict);
    CHECK(s.stored("job-1").cancel_requested_at == std::optional<std::int64_t>(600));
}

TEST_CASE("a cancel of a running job is kept for its lease owner, whose next chunk is refused and undone",
          "[store][cancel]")
{
    auto engine = GENERATE(test::sqlite, test::postgres);
    CAPTURE(test::engine_name(engine));
    cancel_store s(engine);
    s.queue(s.mine, "job-1");
    REQUIRE(test::apply_one(s.writer(), claim_job{"daemon-a", -1, {}, 1000, 9000}).job);
    test::apply_one(s.writer(), advance_job{"job-1", "daemon-a", 50, 5, 5, 1, {}, 1100, 9000, 400});
    test::apply_one(s.writer(), renew_job_lease{"job-1", "daemon-a", 9500, 700});
    CHECK(s.stored("job-1").processing_ms == 700);

    auto kept = s.cancel(s.mine, "job-1", 2000);
    REQUIRE_FALSE(kept.refused);
    REQUIRE(kept.job);
    CHECK(kept.job->status == job_status::running);
    CHECK(kept.job->cancel_requested_at == std::optional<std::int64_t>(2000));
    // A second request while it runs changes nothing.
    auto twice = s.cancel(s.mine, "job-1", 2500);
    REQUIRE_FALSE(twice.refused);
    CHECK(twice.job->cancel_requested_at == std::optional<std::int64_t>(2000));

    // The owner's next chunk: refused with its rows, so nothing after the request is applied.
    std::vector<store_operation> chunk;
    chunk.push_back(advance_job{"job-1", "daemon-a", 90, 9, 9, 1, {}, std::nullopt, 9900, 900});
    chunk.push_back(upsert_users{s.mine, {user_upsert{"after-cancel"}}, 2600});
    auto outcomes = s.writer().apply(chunk, {2});
    for (const auto& o : outcomes) {
        REQUIRE(o.refused);
        CHECK(o.refused->code == "job_cancelled");
    }
    std::vector<store_operation> renewal;
    renewal.push_back(renew_job_lease{"job-1", "daemon-a", 9900, 950});
    auto renewed = s.writer().apply(renewal);
    REQUIRE(renewed.front().refused);
    CHECK(renewed.front().refused->code == "job_cancelled");
    auto stored = s.stored("job-1");
    CHECK(stored.processed_rows == 5);
    CHECK(stored.checkpoint_offset == 50);
    CHECK(stored.processing_ms == 700);

    // The owner ends it, with its final processing time; then it is over.
    test::apply_one(s.writer(), cancelled_finish("job-1", 2700, std::string("daemon-a"), 1000));
    stored = s.stored("job-1");
    CHECK(stored.status == job_status::failed);
    CHECK(stored.error == std::optional<std::string>("cancelled"));
    CHECK(stored.processed_rows == 5);
    CHECK(stored.failed_rows == 1);
    CHECK(stored.processing_ms == 1000);
    CHECK(stored.finished_at == std::optional<std::int64_t>(2700));
    CHECK(stored.cancel_requested_at == std::optional<std::int64_t>(2000));
}

TEST_CASE("a cancel ends at once a running job whose lease ran out (its daemon is gone)", "[store][cancel]")
{
    auto engine = GENERATE(test::sqlite, test::postgres);
    CAPTURE(test::engine_name(engine));
    cancel_store s(engine);
    s.queue(s.mine, "job-1");
    REQUIRE(test::apply_one(s.writer(), claim_job{"daemon-a", -1, {}, 1000, 2000}).job);
    test::apply_one(s.writer(), advance_job{"job-1", "daemon-a", 50, 5, 5, 0, {}, 1100, 2000, 300});

    auto ended = s.cancel(s.mine, "job-1", 2500);
    REQUIRE_FALSE(ended.refused);
    REQUIRE(ended.job);
    CHECK(ended.job->status == job_status::failed);
    CHECK(ended.job->error == std::optional<std::string>("cancelled"));
    CHECK(ended.job->processed_rows == 5);
    CHECK(ended.job->processing_ms == 300);
    // Its owner, back, cannot end it a second time.
    std::vector<store_operation> late;
    late.push_back(cancelled_finish("job-1", 2600, std::string("daemon-a"), 900));
    auto outcome = s.writer().apply(late);
    REQUIRE(outcome.front().refused);
    CHECK(outcome.front().refused->code == "lease_lost");
    CHECK(s.stored("job-1").processing_ms == 300);
}
