// A job's status while the runner holds it (queued or running) is answered from the runner's memory: it must be
// exactly what the store holds, the job as GET /v1/background_jobs (read from the store) lists it.
#include <chrono>
#include <string>
#include <thread>

#include <boost/json/serialize.hpp>
#include <catch2/catch.hpp>

#include "tests/support/bulk_jobs.hpp"
#include "tests/support/test_daemon.hpp"

using namespace profiled::test;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

// The job as GET /v1/background_jobs lists it; an empty object when it is not on the first page.
json::object listed_job(const test_daemon& d, const std::string& job_id)
{
    auto r = d.call("GET", "/v1/background_jobs?limit=100");
    REQUIRE(r.status == 200);
    json::value body = r.json();
    for (const auto& j : body.at("jobs").as_array())
        if (string_field(j.as_object(), "job_id") == job_id)
            return j.as_object();
    return {};
}

// Uploads an NDJSON users file, requires a 202 and returns the job id.
std::string submit(const test_daemon& d, const std::string& ndjson)
{
    auto r = upload_ndjson(d, "users", ndjson);
    INFO(r.body);
    REQUIRE(r.status == 202);
    return string_field(r.json().as_object(), "job_id");
}

// How often a job's GET answer, taken just before and just after its listing, equalled the listing, was behind it
// only by rows the store had committed and not yet answered (the writer answers a chunk once it is durable, so a
// listing can see it first), or differed otherwise.
struct agreement {
    int agreed = 0;
    int behind = 0;
    int differed = 0;
};

// Whether the listing is the memory's job with more rows processed (and the processing time those took) and
// nothing else changed.
bool only_rows_ahead(json::object memory, const json::object& listed)
{
    if (!listed.at("processed_rows").is_int64() || !memory.at("processed_rows").is_int64() ||
        listed.at("processed_rows").as_int64() <= memory.at("processed_rows").as_int64())
        return false;
    memory["processed_rows"] = listed.at("processed_rows");
    memory["failed_rows"] = listed.at("failed_rows");
    memory["duration_seconds"] = listed.at("duration_seconds"); // written with each chunk, as the counts
    return memory == listed;
}

// Compares GET /v1/background_jobs/{id} with the job's listing until the job leaves the given status.
agreement compare_while(const test_daemon& d, const std::string& job_id, const std::string& status)
{
    agreement out;
    auto deadline = std::chrono::steady_clock::now() + 30s;
    while (std::chrono::steady_clock::now() < deadline) {
        json::object before = fetch_job(d, job_id);
        json::object listed = listed_job(d, job_id);
        json::object after = fetch_job(d, job_id);
        if (string_field(before, "status") != status) {
            UNSCOPED_INFO("left " << status << ": " << json::serialize(before));
            break;
        }
        // A chunk committed in between moves both; only a quiet moment is a fair comparison.
        if (before == after && string_field(listed, "status") == status) {
            if (listed == before) {
                ++out.agreed;
            } else if (only_rows_ahead(before, listed)) {
                ++out.behind;
            } else {
                ++out.differed;
                UNSCOPED_INFO("memory " << json::serialize(before) << " store " << json::serialize(listed));
            }
        }
        std::this_thread::sleep_for(20ms);
    }
    return out;
}

} // namespace

TEST_CASE("queued and running jobs' status is the store's field for field", "[bulk][jobs][integration]")
{
    // 10 rows a second after a burst of 10: the first job runs for about 5 s while the second waits behind it.
    test_daemon d({"--rows-per-minute", "600", "--rows-burst", "10"});
    std::string first = submit(d, user_rows(60, 0, "a"));
    std::string second = submit(d, user_rows(5, 100, "b"));

    SECTION("queued")
    {
        auto seen = compare_while(d, second, "queued");
        CHECK(seen.agreed >= 3);
        CHECK(seen.behind == 0);
        CHECK(seen.differed == 0);
    }
    SECTION("running")
    {
        // Claimed first: on a shared engine the claim may come a moment after the upload's answer.
        auto until = std::chrono::steady_clock::now() + 10s;
        while (string_field(fetch_job(d, first), "status") == "queued" && std::chrono::steady_clock::now() < until)
            std::this_thread::sleep_for(10ms);
        auto seen = compare_while(d, first, "running");
        CHECK(seen.agreed >= 3);
        // A commit the runner has not heard of yet can make the store a chunk ahead, for a moment.
        CHECK(seen.behind <= seen.agreed);
        CHECK(seen.differed == 0);
    }
    // Ended jobs are read from the store again, and still agree.
    for (const auto& id : {first, second}) {
        json::object end = wait_for_job_end(d, id);
        CHECK(string_field(end, "status") == "done");
        CHECK(end == listed_job(d, id));
    }
}
