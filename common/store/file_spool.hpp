// The upload spool in files (spool/<job_id>.part, made durable as spool/<job_id>.ndjson): the spool of an engine
// whose database serves one daemon, which alone runs the jobs.
#pragma once

#include <filesystem>
#include <memory>

#include "common/store/upload_spool.hpp"

namespace profiled {

// The spool in the directory spool_dir (which must exist).
std::unique_ptr<upload_spool> open_file_spool(std::filesystem::path spool_dir);

} // namespace profiled
