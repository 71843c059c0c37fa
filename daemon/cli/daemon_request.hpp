// One request from a CLI command to a running daemon's HTTP API (`profiled jobs cancel`).
#pragma once

#include <stdexcept>
#include <string>

namespace profiled {

// What the daemon answered.
struct daemon_answer {
    int status = 0;
    std::string body;
};

// The daemon cannot be asked: a URL it cannot speak, or no answer (refused, reset, unresolvable, timed out).
struct daemon_unreachable : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Sends `method target` without a body, with `Authorization: Token key`, to the daemon at url (http://HOST:PORT,
// optionally with a reverse proxy's path prefix) and reads its answer; throws daemon_unreachable.
daemon_answer ask_daemon(const std::string& url, const std::string& key, const std::string& method,
                         const std::string& target);

// The daemon's own words from the common error body ("message (HTTP 409, job_finished)"); the raw start of the
// body when it is not one.
std::string describe_refusal(const daemon_answer& answer);

} // namespace profiled
