// The name a daemon puts on the leases of the jobs it claims.
#pragma once

#include <string>

namespace profiled {

// This daemon's lease owner name, kept in data_dir (file lease-owner, made on first use): a daemon restarted on
// the same directory, which the directory's lock proves is the only one running there, takes back at once the
// jobs its last run held instead of waiting for their leases to run out. A random name when the file cannot be
// read or written.
std::string lease_owner_of(const std::string& data_dir);

} // namespace profiled
