// The status line and header block of a response, written by hand: one string, no per-field allocation.
#pragma once

#include <string>

#include "daemon/http/http_message.hpp"

namespace profiled {

// The head of r as HTTP/1.version: status line, Server, Content-Type, r's own headers (a name or value holding
// CR or LF is dropped, so nothing a handler passes on can split the response), Content-Length of r.body (also for
// HEAD, which sends the head alone) or, for a streamed body, Transfer-Encoding: chunked (HTTP/1.1; an HTTP/1.0
// stream ends with the connection), Connection when it differs from the version's default, and the blank line.
std::string response_head(const http_response& r, unsigned version, bool keep_alive);

} // namespace profiled
