// The writer's deadlines: an item not started in time is refused without running; one started is waited for.
#include <atomic>
#include <chrono>
#include <future>
#include <optional>
#include <thread>

#include <catch2/catch.hpp>

#include "common/store/open_store.hpp"
#include "daemon/serve/writer.hpp"
#include "tests/support/scratch_dir.hpp"

using namespace profiled;
using namespace std::chrono_literals;

namespace {

// A completion that hands the outcome to a future.
struct outcome_promise {
    std::shared_ptr<std::promise<std::optional<api_error>>> promise =
        std::make_shared<std::promise<std::optional<api_error>>>();
    std::future<std::optional<api_error>> future = promise->get_future();
    writer::completion completion()
    {
        return [p = promise](std::optional<api_error> e) { p->set_value(std::move(e)); };
    }
};

} // namespace

TEST_CASE("a write whose deadline passed before the writer took it is refused without running", "[writer]")
{
    test::scratch_dir dir;
    auto db = open_store(dir.path());
    writer w(*db);

    // The first write holds the writer (its group) until the gate opens.
    std::promise<void> started, gate;
    auto gate_open = gate.get_future().share();
    outcome_promise first, late, patient;
    w.submit([&started, gate_open](store_writer&) {
        started.set_value();
        gate_open.wait();
    }, first.completion());
    started.get_future().wait();

    std::atomic<bool> late_ran{false}, patient_ran{false};
    w.submit([&late_ran](store_writer&) { late_ran = true; }, late.completion(), writer::write_kind::refusable,
             std::chrono::steady_clock::now() + 20ms);
    w.submit([&patient_ran](store_writer&) { patient_ran = true; }, patient.completion());
    std::this_thread::sleep_for(100ms);
    gate.set_value();

    CHECK_FALSE(first.future.get().has_value());
    auto refused = late.future.get();
    REQUIRE(refused.has_value());
    CHECK(refused->code == "store_timeout");
    CHECK(refused->kind == errc::timed_out);
    CHECK(refused->message.find("--request-timeout") != std::string::npos);
    CHECK_FALSE(late_ran);
    // Without a deadline, the same wait is no reason to refuse.
    CHECK_FALSE(patient.future.get().has_value());
    CHECK(patient_ran);
}

TEST_CASE("a write already taken into a group is committed however far past its deadline", "[writer]")
{
    test::scratch_dir dir;
    auto db = open_store(dir.path());
    writer w(*db);

    outcome_promise slow;
    std::atomic<bool> ran{false};
    w.submit([&ran](store_writer&) {
        // Well past the deadline, which is generous so that the writer surely takes the item before it.
        std::this_thread::sleep_for(600ms);
        ran = true;
    }, slow.completion(), writer::write_kind::refusable, std::chrono::steady_clock::now() + 300ms);

    CHECK_FALSE(slow.future.get().has_value());
    CHECK(ran);
}
