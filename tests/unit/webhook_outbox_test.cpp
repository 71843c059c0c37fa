// The webhook outbox in the store, on both engines: deliveries written with the job's end, claimed with a lease,
// and recorded attempt by attempt.
#include <cstdint>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "common/store/store.hpp"
#include "tests/support/store_batches.hpp"
#include "tests/support/test_stores.hpp"

using namespace profiled;

namespace {

// Applies one operation in a batch of its own and says what it did, refusals included.
operation_outcome apply_op(store_writer& w, store_operation op)
{
    std::vector<store_operation> batch;
    batch.push_back(std::move(op));
    return std::move(w.apply(batch).front());
}

// A store with two projects, a running job in each and webhooks to tell.
struct outbox {
    explicit outbox(test::store_engine engine) : db(engine), writer(db->open_writer()), reader(db->open_reader())
    {
        alpha = writer->ensure_project("alpha", 1);
        beta = writer->ensure_project("beta", 1);
    }

    // A job of the project, claimed by owner so that it can be finished.
    void running_job(std::int64_t project, const std::string& job_id)
    {
        job_record j;
        j.job_id = job_id;
        j.project_id = project;
        j.total_rows = 1;
        j.file_size = 10;
        j.submitted_at = 1;
        apply_op(*writer, insert_job{j, "", 0});
        auto claimed = apply_op(*writer, claim_job{"owner", -1, {}, 2, 100000});
        REQUIRE(claimed.job);
        REQUIRE(claimed.job->job_id == job_id);
    }

    // Registers a webhook of the project; what the store said.
    operation_outcome add_webhook(std::int64_t project, const std::string& id, bool on_done, bool on_failed,
                                  std::int64_t limit = 20)
    {
        return apply_op(
            *writer, create_webhook{{id, project, "https://a.example/" + id, on_done, on_failed, "s-" + id, 5}, limit});
    }

    // Claims what is due at now for owner.
    std::vector<delivery_task> claim(const std::string& owner, std::int64_t now, bool take_back_own = false)
    {
        return apply_op(*writer, claim_deliveries{owner, now, now + 1000, 10, take_back_own}).deliveries;
    }

    test::scratch_store db;
    std::unique_ptr<store_writer> writer;
    std::unique_ptr<store_reader> reader;
    std::int64_t alpha = 0, beta = 0;
};

} // namespace

TEST_CASE("a job's end queues one delivery per webhook of its project taking the event, in the same commit",
          "[webhooks][store]")
{
    auto engine = GENERATE(test::sqlite, test::postgres);
    CAPTURE(test::engine_name(engine));
    outbox o(engine);
    REQUIRE(!o.add_webhook(o.alpha, "wh_both", true, true).refused);
    REQUIRE(!o.add_webhook(o.alpha, "wh_failed_only", false, true).refused);
    REQUIRE(!o.add_webhook(o.beta, "wh_other", true, true).refused);
    CHECK(o.reader->list_webhooks(o.alpha).size() == 2);
    CHECK(!o.reader->find_webhook(o.beta, "wh_both").has_value());

    o.running_job(o.alpha, "job-1");
    // Refused ends (another owner) queue nothing.
    auto refused = apply_op(*o.writer, finish_job{"job-1", job_status::done, std::nullopt, 10, "intruder"});
    CHECK(refused.refused);
    CHECK(o.reader->webhook_backlog(10).pending == 0);
    apply_op(*o.writer, finish_job{"job-1", job_status::done, std::nullopt, 10, "owner"});

    auto backlog = o.reader->webhook_backlog(10);
    CHECK(backlog.pending == 1);
    CHECK(backlog.next_due == 10);
    CHECK(o.claim("daemon-a", 9).empty()); // not due yet
    auto tasks = o.claim("daemon-a", 10);
    REQUIRE(tasks.size() == 1);
    CHECK(tasks[0].event == "job.done");
    CHECK(tasks[0].url == "https://a.example/wh_both");
    CHECK(tasks[0].secret == "s-wh_both");
    CHECK(tasks[0].job.job_id == "job-1");
    CHECK(tasks[0].job.status == job_status::done);
    CHECK(tasks[0].attempts_made == 0);
    CHECK(tasks[0].delivery_id.rfind("whd_", 0) == 0);
    CHECK(tasks[0].delivery_id.size() == 36);
    // Leased: nobody else gets it, not even the same owner, until the lease runs out or it is taken back.
    CHECK(o.claim("daemon-b", 20).empty());
    CHECK(o.claim("daemon-a", 20).empty());
    CHECK(o.reader->webhook_backlog(20).next_due == std::nullopt);
    auto back = o.claim("daemon-a", 30, true);
    REQUIRE(back.size() == 1);
    CHECK(back[0].delivery_id == tasks[0].delivery_id);

    SECTION("a failed attempt is pending again at its next time; the last one fails it for good")
    {
        auto stranger = apply_op(*o.writer, record_delivery_attempt{tasks[0].delivery_id, "daemon-b", 1, 500,
                                                                           "the receiver answered 500", 40,
                                                                           delivery_state::pending, 100});
        CHECK(stranger.refused);
        CHECK(!apply_op(*o.writer,
                               record_delivery_attempt{tasks[0].delivery_id, "daemon-a", 1, 500,
                                                       "the receiver answered 500", 40, delivery_state::pending, 100})
                   .refused);
        CHECK(o.reader->webhook_backlog(50).next_due == 100);
        CHECK(o.claim("daemon-b", 99).empty());
        auto again = o.claim("daemon-b", 100);
        REQUIRE(again.size() == 1);
        CHECK(again[0].attempts_made == 1);
        CHECK(!apply_op(*o.writer,
                               record_delivery_attempt{again[0].delivery_id, "daemon-b", 2, std::nullopt,
                                                       "timed out reading the answer", 120, delivery_state::failed, 0})
                   .refused);
        CHECK(o.reader->webhook_backlog(200).pending == 0);
        CHECK(o.claim("daemon-b", 5000).empty());
        auto page = o.reader->list_delivery_attempts(o.alpha, "wh_both", std::nullopt, 1);
        REQUIRE(page);
        REQUIRE(page->attempts.size() == 1);
        CHECK(page->attempts[0].attempt == 2);
        CHECK(page->attempts[0].status_code == std::nullopt);
        CHECK(page->attempts[0].state == delivery_state::failed);
        REQUIRE(page->next_cursor);
        auto rest = o.reader->list_delivery_attempts(o.alpha, "wh_both", page->next_cursor, 10);
        REQUIRE(rest);
        REQUIRE(rest->attempts.size() == 1);
        CHECK(rest->attempts[0].attempt == 1);
        CHECK(rest->attempts[0].status_code == 500);
        CHECK(!rest->next_cursor);
        CHECK(!o.reader->list_delivery_attempts(o.alpha, "wh_both", std::string("u5"), 10).has_value());
        CHECK(o.reader->list_delivery_attempts(o.beta, "wh_both", std::nullopt, 10)->attempts.empty());
    }
    SECTION("a failed job goes to both of its project's webhooks that take job.failed")
    {
        o.running_job(o.alpha, "job-2");
        apply_op(*o.writer, finish_job{"job-2", job_status::failed, std::string("cancelled"), 50, "owner"});
        auto failed = o.claim("daemon-c", 60);
        REQUIRE(failed.size() == 2);
        for (const auto& t : failed) {
            CHECK(t.event == "job.failed");
            CHECK(t.job.job_id == "job-2");
            CHECK(t.job.error == std::optional<std::string>("cancelled"));
        }
    }
    SECTION("deleting the webhook drops its deliveries")
    {
        CHECK(apply_op(*o.writer, delete_webhook{o.beta, "wh_both"}).count == 0);
        CHECK(apply_op(*o.writer, delete_webhook{o.alpha, "wh_both"}).count == 1);
        CHECK(o.reader->webhook_backlog(100).pending == 0);
        CHECK(apply_op(*o.writer, record_delivery_attempt{tasks[0].delivery_id, "daemon-a", 1, 204, std::nullopt,
                                                                 40, delivery_state::delivered, 0})
                  .refused);
    }
}

TEST_CASE("a project may have only so many webhooks", "[webhooks][store]")
{
    auto engine = GENERATE(test::sqlite, test::postgres);
    CAPTURE(test::engine_name(engine));
    outbox o(engine);
    CHECK(!o.add_webhook(o.alpha, "wh_1", true, false, 2).refused);
    CHECK(!o.add_webhook(o.alpha, "wh_2", true, false, 2).refused);
    auto third = o.add_webhook(o.alpha, "wh_3", true, false, 2);
    REQUIRE(third.refused);
    CHECK(third.refused->code == "webhook_limit");
    CHECK(!o.add_webhook(o.beta, "wh_4", true, false, 2).refused);
    CHECK(o.reader->list_webhooks(o.alpha).size() == 2);
}
