// `profiled keys create|list|revoke`: API keys managed straight in the database.
#pragma once

#include <string>
#include <vector>

namespace profiled {

// Runs a keys subcommand; returns the process exit code.
int run_keys_command(const std::vector<std::string>& args);

} // namespace profiled
