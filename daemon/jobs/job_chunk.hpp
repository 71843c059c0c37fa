// A chunk of a bulk job: rows read from its spool and validated, in the form the store binds.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/formats/spool_file.hpp"
#include "common/profiles/profile.hpp"

namespace profiled {

// Rows read from a job's spool file and validated, ready for one writer transaction.
struct job_chunk {
    // Serialized here, on the parser thread, in the form the store binds.
    std::vector<user_upsert> users;
    std::vector<company_upsert> companies;
    std::vector<company_upsert> user_companies; // the companies the users rows name, each once, without properties
    std::vector<job_row_error> errors;
    std::int64_t rows = 0;
    std::int64_t wanted = 0;
    std::uint64_t end_offset = 0; // the spool position after the chunk's last row
    std::int64_t end_line = 0;
    std::string read_problem; // set when the spool could not be read
    bool read_again = false;  // the problem was the store the spool lives in, failing for now: worth a retry
};

// Rows to ask for in the next chunk: at most cap, and no more than the job has left (but at least one, so
// that a spool file shorter than announced is found out).
double chunk_rows(double cap, std::int64_t remaining);

// Reads and validates up to `take` rows from the reader's position (on the parser thread: it throws nothing).
job_chunk read_chunk(spool_reader& reader, job_type type, std::int64_t take);

} // namespace profiled
