// `profiled import FILE`: uploads a bulk file to a running daemon and follows the job until it ends.
#pragma once

#include <string>
#include <vector>

namespace profiled {

// Runs the import command; returns the process exit code (0 when the job ends done).
int run_import_command(const std::vector<std::string>& args);

} // namespace profiled
