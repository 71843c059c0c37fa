// `profiled serve`: open the store, recover, listen, run until SIGTERM/SIGINT.
#pragma once

#include "common/settings.hpp"

namespace profiled {

// Runs the daemon in the foreground; returns the process exit code.
int run_serve(const server_settings& settings);

} // namespace profiled
