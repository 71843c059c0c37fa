// `profiled serve`: open the store, recover, listen, run until SIGTERM/SIGINT; SIGHUP reloads settings.
#pragma once

#include <string>
#include <vector>

#include "common/ops/settings.hpp"

namespace profiled {

// Runs the daemon in the foreground; args are re-read on SIGHUP. Returns the process exit code.
int run_serve(const server_settings& settings, const std::vector<std::string>& args);

} // namespace profiled
