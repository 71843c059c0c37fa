// Streamed request bodies: the session hands an upload's bytes to a sink as they arrive, never buffering the body.
#pragma once

#include <memory>
#include <optional>
#include <string_view>

#include <boost/asio/awaitable.hpp>

#include "daemon/http/http_message.hpp"

namespace profiled {

// The session calls write and the destructor on the spool thread, one call at a time and never on the io thread,
// so they may block on the disk; finish runs on the io thread and hands its own blocking work elsewhere.
class upload_sink {
public:
    // Removes what an unfinished upload left behind (its .part file).
    virtual ~upload_sink() = default;
    // Consumes the next piece of the body; an error ends the upload and the sink cleans up after itself.
    virtual std::optional<api_error> write(std::string_view chunk) = 0;
    // The body is complete: recheck what may have changed meanwhile (the key revoked), make the upload durable
    // and record it; the answer.
    virtual boost::asio::awaitable<http_response> finish() = 0;
};

// What an upload route decides from the request's headers alone: a sink for the body, or an answer right away.
struct upload_start {
    std::unique_ptr<upload_sink> sink;
    std::optional<http_response> response;
};

} // namespace profiled
