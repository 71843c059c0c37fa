// What every handler shares: settings, the store's reader, the writer, the spool thread, and the server's state.
#pragma once

#include <atomic>

#include "common/ops/settings.hpp"
#include "common/store/store.hpp"
#include "daemon/serve/writer.hpp"

namespace profiled {

class job_runner;
class spool_thread;

struct server_context {
    server_settings settings;
    store& db;
    store_reader& reader; // io thread only
    writer& writes;
    spool_thread& spooler;             // where upload sinks do their blocking work
    job_runner* runner = nullptr;      // set once the runner exists
    std::atomic<bool> ready{false};    // recovery done and listening
    std::atomic<bool> stopping{false}; // shutdown begun
};

} // namespace profiled
