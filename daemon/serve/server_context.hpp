// What every handler shares: settings, the store's readers, the writer, the spool thread, and the server's state.
#pragma once

#include <atomic>
#include <optional>

#include <boost/asio/awaitable.hpp>

#include "common/api_error.hpp"
#include "common/ops/settings.hpp"
#include "common/store/store.hpp"
#include "daemon/serve/reader_pool.hpp"
#include "daemon/serve/writer.hpp"

namespace profiled {

class export_pool;
class job_runner;
class spool_thread;
class store_health;

struct server_context {
    server_settings settings;
    store& db;
    store_reader& reader; // io thread only: the key cache's, which looks for key changes in it
    writer& writes;
    reader_pool& reads;                // where handlers read the store (ctx.reads.run(...))
    spool_thread& spooler;             // where upload sinks do their blocking work
    upload_spool& spool;               // where uploads wait for their jobs (written on the spooler)
    job_runner* runner = nullptr;      // set once the runner exists
    export_pool* exports = nullptr;    // where exports read their snapshots
    store_health* health = nullptr;    // whether the database can be reached, as last found (/readyz)
    std::atomic<bool> ready{false};    // recovery done and listening
    std::atomic<bool> stopping{false}; // shutdown begun
};

// What a submission to the writer did: its failure as a whole, or each operation's outcome.
struct write_result {
    std::optional<api_error> failure;
    std::vector<operation_outcome> outcomes;
};

// Hands the operations to the writer, which must start them within the request timeout (--request-timeout), and
// waits until they are durable: nullopt, or the first refusal (503 store_timeout when they were not started in
// time: not applied). Not a coroutine (see off_loop): build it outside the co_await expression.
boost::asio::awaitable<std::optional<api_error>> written(server_context& ctx, std::vector<store_operation> ops);
// The same, with what each operation did, for callers that need it (upsert outcomes, an earlier job).
boost::asio::awaitable<write_result> written_outcomes(server_context& ctx, std::vector<store_operation> ops);

} // namespace profiled
