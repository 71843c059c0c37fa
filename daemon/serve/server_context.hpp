// What every handler shares: settings, the store's reader, the writer, and the server's state.
#pragma once

#include <atomic>

#include "common/ops/settings.hpp"
#include "common/store/store.hpp"
#include "daemon/serve/writer.hpp"

namespace profiled {

class job_runner;

struct server_context {
    server_settings settings;
    store& db;
    store_reader& reader; // io thread only
    writer& writes;
    job_runner* runner = nullptr; // set once the runner exists
    std::atomic<bool> ready{false};    // recovery done and listening
    std::atomic<bool> stopping{false}; // shutdown begun
};

} // namespace profiled
