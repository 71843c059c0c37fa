// `profiled export`: streams a project's users or companies from a running daemon to stdout as NDJSON.
#pragma once

#include <string>
#include <vector>

namespace profiled {

// Runs the export command; returns the process exit code (0 when the export arrived whole).
int run_export_command(const std::vector<std::string>& args);

} // namespace profiled
