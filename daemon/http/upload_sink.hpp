// Streamed request bodies: the session hands an upload's bytes to a sink as they arrive, never buffering the body.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string_view>

#include "daemon/http/http_message.hpp"

namespace profiled {

// The session calls write, finish and the destructor on the spool thread, one call at a time and never on the io
// thread, so they may block on the disk; only recheck runs on the io thread.
class upload_sink {
public:
    // Removes what an unfinished upload left behind (its .part file).
    virtual ~upload_sink() = default;
    // Consumes the next piece of the body; an error ends the upload and the sink cleans up after itself.
    virtual std::optional<api_error> write(std::string_view chunk) = 0;
    // The body is complete: a refusal that only the io thread's state can decide (the key revoked meanwhile).
    virtual std::optional<api_error> recheck() = 0;
    // The body is complete and rechecked: make it durable and answer through respond (possibly from another thread).
    virtual void finish(responder respond) = 0;
};

// What an upload route decides from the request's headers alone: a sink for the body, or an answer right away.
struct upload_start {
    std::unique_ptr<upload_sink> sink;
    std::optional<http_response> response;
};

} // namespace profiled
