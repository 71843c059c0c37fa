// Streamed response bodies: a handler answers with a producer, and the session pulls the body from it piece by
// piece, writing each piece as an HTTP/1.1 chunk once the socket has taken the one before.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/awaitable.hpp>

namespace profiled {

// A response body made while it is sent. The session asks for the next piece only when the last is written, so a
// client that reads slowly slows the producer and the body is never held whole. Used on the io thread.
class body_stream {
public:
    // Stops the producer: the body was sent whole, or the client went away first.
    virtual ~body_stream() = default;
    // The next piece of the body (never empty), or nothing once the body is complete. Throws when the body cannot
    // be completed: the session then ends the connection without the last chunk, so the client sees it cut.
    virtual boost::asio::awaitable<std::optional<std::string>> next() = 0;
    // The trailer fields sent after the last chunk (their names announced in the response's Trailer header),
    // asked once next() said the body is complete.
    virtual std::vector<std::pair<std::string, std::string>> trailers() = 0;
    // Seconds the client may take to accept a piece before the connection is dropped.
    virtual std::chrono::seconds write_timeout() const = 0;
};

} // namespace profiled
