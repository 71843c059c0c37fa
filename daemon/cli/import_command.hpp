// `profiled import FILE...`: uploads bulk files to a running daemon and follows their jobs until they end; and
// `profiled jobs watch JOB_ID`, which follows a job the same way.
#pragma once

#include <string>
#include <vector>

namespace profiled {

// Runs the import command; returns the process exit code (0 when the job ends done).
int run_import_command(const std::vector<std::string>& args);
// Runs `profiled jobs watch` (args after "watch"); returns the exit code (0 when the job ends done).
int run_jobs_watch_command(const std::vector<std::string>& args);

} // namespace profiled
