// Jobs claimed through the store with a lease: fairness across projects, expiry, renewal, skipping.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "common/store/store.hpp"
#include "tests/support/store_batches.hpp"
#include "tests/support/test_stores.hpp"

using namespace profiled;

namespace {

// A store with three projects (alpha < beta < gamma) and a writer to queue and claim their jobs.
class job_queue {
public:
    explicit job_queue(test::store_engine engine) : db_(engine), writer_(db_->open_writer()), reader_(db_->open_reader())
    {
        alpha = writer_->ensure_project("alpha", 1);
        beta = writer_->ensure_project("beta", 1);
        gamma = writer_->ensure_project("gamma", 1);
    }

    // Queues a job of the project, submitted at the given time.
    void queue(std::int64_t project, const std::string& job_id, std::int64_t submitted_at)
    {
        job_record j;
        j.job_id = job_id;
        j.project_id = project;
        j.total_rows = 10;
        j.file_size = 100;
        j.submitted_at = submitted_at;
        test::apply_one(*writer_, insert_job{j, "", 0});
    }

    // The job owner claims at now for a lease until now + 1000, or nothing.
    std::optional<job_record> claim(const std::string& owner, std::int64_t now, std::int64_t after_project = -1,
                                    std::vector<std::int64_t> skip = {})
    {
        return test::apply_one(*writer_, claim_job{owner, after_project, std::move(skip), now, now + 1000}).job;
    }

    // The job id a claim got, or "none".
    std::string claimed(const std::string& owner, std::int64_t now, std::int64_t after_project = -1,
                        std::vector<std::int64_t> skip = {})
    {
        auto job = claim(owner, now, after_project, std::move(skip));
        return job ? job->job_id : "none";
    }

    store_writer& writer() { return *writer_; }
    store& db() { return *db_; }
    store_reader& reader() { return *reader_; }

    std::int64_t alpha = 0, beta = 0, gamma = 0;

private:
    test::scratch_store db_;
    std::unique_ptr<store_writer> writer_;
    std::unique_ptr<store_reader> reader_;
};

} // namespace

TEST_CASE("claims go round-robin across projects, oldest job first within one", "[store][leases]")
{
    auto engine = GENERATE(test::sqlite, test::postgres);
    CAPTURE(test::engine_name(engine));
    job_queue q(engine);
    q.queue(q.beta, "beta-1", 100);
    q.queue(q.alpha, "alpha-2", 300);
    q.queue(q.alpha, "alpha-1", 200);
    q.queue(q.gamma, "gamma-1", 400);

    SECTION("from the start: each project in turn, skipping those already held")
    {
        CHECK(q.claimed("daemon-a", 1000) == "alpha-2"); // inserted first: the oldest job of alpha
        CHECK(q.claimed("daemon-a", 1000, q.alpha, {q.alpha}) == "beta-1");
        CHECK(q.claimed("daemon-a", 1000, q.beta, {q.alpha, q.beta}) == "gamma-1");
        CHECK(q.claimed("daemon-a", 1000, q.gamma, {q.alpha, q.beta, q.gamma}) == "none");
    }
    SECTION("after the project last served, wrapping around to the first")
    {
        CHECK(q.claimed("daemon-a", 1000, q.beta) == "gamma-1");
        CHECK(q.claimed("daemon-a", 1000, q.gamma, {q.gamma}) == "alpha-2");
        CHECK(q.claimed("daemon-a", 1000, q.alpha, {q.alpha, q.gamma}) == "beta-1");
    }
    SECTION("a project's next job goes to the daemon holding its first, not to another")
    {
        CHECK(q.claimed("daemon-a", 1000) == "alpha-2");
        CHECK(q.claimed("daemon-b", 1000, q.gamma, {q.beta, q.gamma}) == "none");
        CHECK(q.claimed("daemon-a", 1000, q.gamma, {q.beta, q.gamma}) == "alpha-1");
    }
    SECTION("a claim reads back the whole job as stored")
    {
        auto job = q.claim("daemon-a", 1000, q.alpha);
        REQUIRE(job);
        CHECK(job->job_id == "beta-1");
        CHECK(job->project_id == q.beta);
        CHECK(job->status == job_status::queued);
        CHECK(job->total_rows == 10);
        CHECK(job->submitted_at == 100);
    }
}

TEST_CASE("a claim skips the projects it is given", "[store][leases]")
{
    auto engine = GENERATE(test::sqlite, test::postgres);
    CAPTURE(test::engine_name(engine));
    job_queue q(engine);
    q.queue(q.alpha, "alpha-1", 100);
    q.queue(q.beta, "beta-1", 200);
    CHECK(q.claimed("daemon-a", 1000, -1, {q.alpha}) == "beta-1");
    CHECK(q.claimed("daemon-a", 1000, -1, {q.alpha, q.beta}) == "none");
    CHECK(q.claimed("daemon-a", 1000, -1, {q.beta}) == "alpha-1");
}

TEST_CASE("a live lease cannot be claimed, an expired one can", "[store][leases]")
{
    auto engine = GENERATE(test::sqlite, test::postgres);
    CAPTURE(test::engine_name(engine));
    job_queue q(engine);
    q.queue(q.alpha, "alpha-1", 100);
    REQUIRE(q.claimed("daemon-a", 1000) == "alpha-1"); // leased until 2000
    CHECK(q.claimed("daemon-b", 1500) == "none");
    CHECK(q.claimed("daemon-b", 1999) == "none");
    CHECK(q.claimed("daemon-b", 2000) == "alpha-1"); // now daemon-b's until 3000
    CHECK(q.claimed("daemon-a", 2500) == "none");
}

TEST_CASE("one daemon at a time works a project: another claims its jobs once that daemon's leases end",
          "[store][leases]")
{
    auto engine = GENERATE(test::sqlite, test::postgres);
    CAPTURE(test::engine_name(engine));
    job_queue q(engine);
    q.queue(q.alpha, "alpha-1", 100);
    q.queue(q.alpha, "alpha-2", 200);
    q.queue(q.beta, "beta-1", 300);
    REQUIRE(q.claimed("daemon-a", 1000) == "alpha-1"); // leased until 2000

    // daemon-b finds the other project's job, never alpha's second one while daemon-a works alpha.
    CHECK(q.claimed("daemon-b", 1500) == "beta-1");
    CHECK(q.claimed("daemon-b", 1500, -1, {q.beta}) == "none");
    SECTION("once daemon-a finished its job, alpha's next job is anyone's")
    {
        test::apply_one(q.writer(), finish_job{"alpha-1", job_status::done, std::nullopt, 1600});
        CHECK(q.claimed("daemon-b", 1700, -1, {q.beta}) == "alpha-2");
        CHECK(q.claimed("daemon-a", 1700) == "none");
    }
    SECTION("once daemon-a's lease ran out (a dead daemon), its job first, then the next")
    {
        CHECK(q.claimed("daemon-b", 2000, -1, {q.beta}) == "alpha-1");
        CHECK(q.claimed("daemon-a", 2000) == "none");
    }
}

TEST_CASE("advancing a job and renewing its lease keep it the owner's", "[store][leases]")
{
    auto engine = GENERATE(test::sqlite, test::postgres);
    CAPTURE(test::engine_name(engine));
    job_queue q(engine);
    q.queue(q.alpha, "alpha-1", 100);
    REQUIRE(q.claimed("daemon-a", 1000) == "alpha-1"); // leased until 2000

    SECTION("an advance renews the lease")
    {
        test::apply_one(q.writer(), advance_job{"alpha-1", "daemon-a", 50, 5, 5, 0, {}, 1100, 5000});
        CHECK(q.claimed("daemon-b", 3000) == "none");
        auto resumed = q.claim("daemon-b", 5000);
        REQUIRE(resumed);
        CHECK(resumed->status == job_status::running);
        CHECK(resumed->checkpoint_offset == 50);
        CHECK(resumed->processed_rows == 5);
    }
    SECTION("a renewal keeps a waiting job")
    {
        test::apply_one(q.writer(), renew_job_lease{"alpha-1", "daemon-a", 4000});
        CHECK(q.claimed("daemon-b", 3000) == "none");
        CHECK(q.claimed("daemon-b", 4000) == "alpha-1");
    }
    SECTION("a finished job is never claimed again")
    {
        test::apply_one(q.writer(), finish_job{"alpha-1", job_status::done, std::nullopt, 1200});
        CHECK(q.claimed("daemon-b", 9000) == "none");
        auto j = q.reader().find_job(q.alpha, "alpha-1");
        REQUIRE(j);
        CHECK(j->status == job_status::done);
    }
}

TEST_CASE("a writer opening frees a dead process's leases on SQLite, and no other daemon's lease on PostgreSQL",
          "[store][leases]")
{
    auto engine = GENERATE(test::sqlite, test::postgres);
    CAPTURE(test::engine_name(engine));
    job_queue q(engine);
    q.queue(q.alpha, "alpha-1", 100);
    REQUIRE(q.claimed("daemon-a", 1000) == "alpha-1"); // leased until 2000
    auto restarted = q.db().open_writer();
    auto job = test::apply_one(*restarted, claim_job{"daemon-b", -1, {}, 1500, 2500}).job;
    if (engine == test::sqlite) {
        // One daemon per SQLite database: a lease left there is a dead process's.
        REQUIRE(job);
        CHECK(job->job_id == "alpha-1");
    } else {
        // Daemons share a PostgreSQL database: daemon-a may be alive; its lease must simply run out first.
        CHECK_FALSE(job);
        auto after_expiry = test::apply_one(*restarted, claim_job{"daemon-b", -1, {}, 2000, 3000}).job;
        REQUIRE(after_expiry);
        CHECK(after_expiry->job_id == "alpha-1");
    }
}

TEST_CASE("a daemon whose lease ran out cannot advance or renew the job", "[store][leases]")
{
    auto engine = GENERATE(test::sqlite, test::postgres);
    CAPTURE(test::engine_name(engine));
    job_queue q(engine);
    q.queue(q.alpha, "alpha-1", 100);
    REQUIRE(q.claimed("daemon-a", 1000) == "alpha-1"); // leased until 2000
    REQUIRE(q.claimed("daemon-b", 2000) == "alpha-1"); // taken over once it ran out

    std::vector<store_operation> late;
    late.push_back(advance_job{"alpha-1", "daemon-a", 50, 5, 5, 0, {}, 1100, 5000});
    late.push_back(renew_job_lease{"alpha-1", "daemon-a", 6000});
    auto outcomes = q.writer().apply(late);
    REQUIRE(outcomes.size() == 2);
    for (const auto& o : outcomes) {
        REQUIRE(o.refused);
        CHECK(o.refused->code == "lease_lost");
    }
    auto j = q.reader().find_job(q.alpha, "alpha-1");
    REQUIRE(j);
    CHECK(j->processed_rows == 0);
    CHECK(j->checkpoint_offset == 0);
    // The new owner goes on as if nothing happened.
    CHECK_NOTHROW(test::apply_one(q.writer(), advance_job{"alpha-1", "daemon-b", 60, 6, 6, 0, {}, 2100, 7000}));
}

TEST_CASE("a daemon whose lease ran out cannot end the job, whoever finished it since", "[store][leases]")
{
    auto engine = GENERATE(test::sqlite, test::postgres);
    CAPTURE(test::engine_name(engine));
    job_queue q(engine);
    q.queue(q.alpha, "alpha-1", 100);
    REQUIRE(q.claimed("daemon-a", 1000) == "alpha-1"); // leased until 2000
    REQUIRE(q.claimed("daemon-b", 2000) == "alpha-1"); // taken over once it ran out

    SECTION("while the new owner still runs it")
    {
        std::vector<store_operation> late;
        late.push_back(finish_job{"alpha-1", job_status::failed, std::string("spool unreadable"), 2100, "daemon-a"});
        auto outcomes = q.writer().apply(late);
        REQUIRE(outcomes.front().refused);
        CHECK(outcomes.front().refused->code == "lease_lost");
        auto j = q.reader().find_job(q.alpha, "alpha-1");
        REQUIRE(j);
        CHECK(j->status == job_status::queued);
        CHECK_NOTHROW(test::apply_one(q.writer(), finish_job{"alpha-1", job_status::done, std::nullopt, 2200,
                                                             std::string("daemon-b")}));
    }
    SECTION("after the new owner finished it")
    {
        test::apply_one(q.writer(), finish_job{"alpha-1", job_status::done, std::nullopt, 2200, std::string("daemon-b")});
        std::vector<store_operation> late;
        late.push_back(finish_job{"alpha-1", job_status::failed, std::string("spool unreadable"), 2300, "daemon-a"});
        auto outcomes = q.writer().apply(late);
        REQUIRE(outcomes.front().refused);
        CHECK(outcomes.front().refused->code == "lease_lost");
    }
    auto j = q.reader().find_job(q.alpha, "alpha-1");
    REQUIRE(j);
    CHECK(j->status != job_status::failed);
}

TEST_CASE("a job chunk's rows and checkpoint are one unit: a lost lease applies neither", "[store][leases]")
{
    auto engine = GENERATE(test::sqlite, test::postgres);
    CAPTURE(test::engine_name(engine));
    job_queue q(engine);
    q.queue(q.alpha, "alpha-1", 100);
    q.queue(q.beta, "beta-1", 100);
    REQUIRE(q.claimed("daemon-a", 1000) == "alpha-1");
    REQUIRE(q.claimed("daemon-b", 2000) == "alpha-1");
    REQUIRE(q.claimed("daemon-a", 2000) == "beta-1");

    user_upsert row;
    row.user_id = "from_the_lost_chunk";
    row.properties = R"({"plan":"pro"})";
    row.origin = "{}";
    user_upsert other = row;
    other.user_id = "from_the_live_chunk";
    std::vector<store_operation> batch;
    batch.push_back(advance_job{"alpha-1", "daemon-a", 50, 5, 5, 0, {}, 1100, 5000}); // lost
    batch.push_back(upsert_users{q.alpha, {row}, 2100});
    batch.push_back(advance_job{"beta-1", "daemon-a", 70, 7, 7, 0, {}, 2100, 5000}); // still held
    batch.push_back(upsert_users{q.beta, {other}, 2100});
    auto outcomes = q.writer().apply(batch, {2, 4});
    REQUIRE(outcomes.size() == 4);
    CHECK(outcomes[0].refused);
    CHECK(outcomes[1].refused); // undone with its unit
    CHECK_FALSE(outcomes[2].refused);
    CHECK_FALSE(outcomes[3].refused);
    CHECK_FALSE(q.reader().find_user(q.alpha, "from_the_lost_chunk"));
    CHECK(q.reader().find_user(q.beta, "from_the_live_chunk"));
    auto beta_job = q.reader().find_job(q.beta, "beta-1");
    REQUIRE(beta_job);
    CHECK(beta_job->processed_rows == 7);
}
