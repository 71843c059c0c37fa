// Failures caused by the input: a value that the daemon maps to an HTTP status in one place.
#pragma once

#include <stdexcept>
#include <string>

namespace profiled {

// What kind of refusal an api_error is; the daemon maps each to one HTTP status.
enum class errc {
    bad_request,
    unauthorized,
    forbidden,
    not_found,
    method_not_allowed,
    request_timeout,
    conflict,
    payload_too_large,
    unsupported_media_type,
    unprocessable, // well-formed, but at odds with what the server already holds (a reused Idempotency-Key)
    rate_limited,
    unavailable,
    timed_out,   // the store did not answer within the request's deadline: 503 with Retry-After
    unreachable, // the database cannot be reached for now (a server restarting): 503 with Retry-After
    insufficient_storage,
    internal,
};

// The Retry-After (seconds) of an errc::unreachable: long enough for a database server to come back from a
// restart or a failover, short enough that clients do not give up on it.
inline constexpr int unreachable_retry_seconds = 5;

// One error as the client sees it: {"error_code", "message", "details": {"field"}}.
struct api_error {
    errc kind = errc::bad_request;
    std::string code;
    std::string message;
    std::string field; // empty when the error is not about one field
};

// A required field is absent.
api_error missing_field(std::string field);
// A field is present but its value is not acceptable.
api_error invalid_field(std::string field, std::string message);
// The body as a whole cannot be used.
api_error bad_body(std::string code, std::string message);
// No such object in the caller's project.
api_error not_found(std::string what, std::string id);
// A bug or broken infrastructure; the message discloses nothing.
api_error internal_error();

// Carries an api_error out of code that runs inside a write transaction, to roll it back.
class api_exception : public std::runtime_error {
public:
    explicit api_exception(api_error error);
    const api_error& error() const noexcept { return error_; }

private:
    api_error error_;
};

} // namespace profiled
