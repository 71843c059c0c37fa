// Random identifiers: internal user ids, job ids and API keys.
#pragma once

#include <cstddef>
#include <string>

namespace profiled {

// n bytes from the kernel's CSPRNG.
std::string random_bytes(std::size_t n);
// n characters drawn uniformly from [0-9A-Za-z].
std::string random_base62(std::size_t n);
// A new internal user id: "usr_" and 16 base62 characters.
std::string new_user_public_id();
// A new job id: a random (version 4) UUID.
std::string new_job_id();

} // namespace profiled
