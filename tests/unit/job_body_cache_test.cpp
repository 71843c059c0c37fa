// job_body_cache: a poll of an unchanged job gets the body rendered before; any change renders it anew.
#include <catch2/catch.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "common/profiles/profile_json.hpp"
#include "daemon/api/job_body_cache.hpp"

using namespace profiled;

namespace {

job_record running_job(const std::string& id)
{
    job_record j;
    j.job_id = id;
    j.project_id = 1;
    j.status = job_status::running;
    j.file_size = 100;
    j.total_rows = 10;
    j.submitted_at = 1'700'000'000'000;
    j.started_at = 1'700'000'001'000;
    return j;
}

} // namespace

TEST_CASE("job_body_cache renders a job once per state and anew after any change", "[jobs][polling]")
{
    job_body_cache cache;
    job_record job = running_job("job_a");
    const std::string* first = &cache.body_of(job);
    CHECK(*first == boost::json::serialize(job_to_json(job)));
    CHECK(&cache.body_of(job) == first); // the same bytes, not rendered again

    job.processed_rows = 4;
    job.processing_ms = 1500;
    auto changed = boost::json::parse(cache.body_of(job)).as_object();
    CHECK(changed.at("processed_rows").as_int64() == 4);
    CHECK(changed.at("duration_seconds").to_number<double>() == 1.5);

    job.cancel_requested_at = 1'700'000'002'000;
    CHECK(cache.body_of(job) == boost::json::serialize(job_to_json(job)));

    // Another job in the cache does not change what this one gets.
    job_record other = running_job("job_b");
    other.total_rows = 99;
    CHECK(boost::json::parse(cache.body_of(other)).as_object().at("total_rows").as_int64() == 99);
    CHECK(cache.body_of(job) == boost::json::serialize(job_to_json(job)));
}

TEST_CASE("job_body_cache stays bounded however many jobs are polled", "[jobs][polling]")
{
    job_body_cache cache;
    for (int i = 0; i < 5000; ++i) {
        job_record j = running_job("job_" + std::to_string(i));
        CHECK(boost::json::parse(cache.body_of(j)).as_object().at("job_id").as_string() == j.job_id);
    }
    CHECK(cache.size() <= 1024);
}
