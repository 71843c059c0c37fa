// `profiled jobs list`: bulk jobs of every project, read straight from the database; `profiled jobs cancel`: a
// job's cancel, asked of the daemon over its API; `jobs watch` (in import_command.cpp, beside the HTTP client it
// shares with import) follows one through the daemon.
#pragma once

#include <string>
#include <vector>

namespace profiled {

// Runs a jobs subcommand; returns the process exit code.
int run_jobs_command(const std::vector<std::string>& args);

} // namespace profiled
