// The reader pool: reads run on its threads and come back to the awaiting coroutine; a read slower than the
// request timeout fails with store_timeout and its late result is dropped.
#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

#include "common/api_error.hpp"
#include "common/store/open_store.hpp"
#include "daemon/serve/reader_pool.hpp"
#include "tests/support/scratch_dir.hpp"

using namespace profiled;
using namespace std::chrono_literals;
namespace net = boost::asio;

namespace {

// What a coroutine saw of three reads: a quick one, one that throws, and one slower than the timeout.
struct seen {
    std::optional<std::int64_t> quick;
    bool quick_on_io_thread = false;
    std::string thrown;
    std::string slow_error;
    std::optional<int> slow;
};

// Runs the three reads one after the other on pool.
net::awaitable<void> read_three(reader_pool& pool, seen& out, std::thread::id io_thread)
{
    auto quick = pool.run([](store_reader& r) { return r.count_jobs(job_status::queued); });
    out.quick = co_await std::move(quick);
    out.quick_on_io_thread = std::this_thread::get_id() == io_thread;
    try {
        auto failing = pool.run([](store_reader&) -> int { throw std::runtime_error("broken read"); });
        co_await std::move(failing);
    } catch (const std::exception& e) {
        out.thrown = e.what();
    }
    try {
        auto slow = pool.run([](store_reader&) {
            std::this_thread::sleep_for(1500ms);
            return 7;
        });
        out.slow = co_await std::move(slow);
    } catch (const api_exception& e) {
        out.slow_error = e.error().code;
    }
}

} // namespace

TEST_CASE("reads come back on the awaiting coroutine's thread, and one slower than the timeout fails",
          "[reader_pool]")
{
    test::scratch_dir dir;
    auto db = open_store(dir.path());
    net::io_context io;
    reader_pool pool(*db, io, 2, 1s);
    seen out;
    net::co_spawn(io, read_three(pool, out, std::this_thread::get_id()), net::detached);
    auto started = std::chrono::steady_clock::now();
    io.run();
    auto took = std::chrono::steady_clock::now() - started;

    CHECK(out.quick == 0);
    CHECK(out.quick_on_io_thread);
    CHECK(out.thrown == "broken read");
    CHECK(out.slow_error == "store_timeout");
    CHECK_FALSE(out.slow.has_value());
    // Answered at the timeout, not when the slow read ended.
    CHECK(took < 1400ms);
}
