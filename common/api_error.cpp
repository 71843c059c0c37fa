#include "common/api_error.hpp"

namespace profiled {

// A required field is absent.
api_error missing_field(std::string field)
{
    std::string message = field + " is required";
    return {errc::bad_request, "missing_field", std::move(message), std::move(field)};
}

// A field is present but its value is not acceptable.
api_error invalid_field(std::string field, std::string message)
{
    return {errc::bad_request, "invalid_field", std::move(message), std::move(field)};
}

// The body as a whole cannot be used.
api_error bad_body(std::string code, std::string message)
{
    return {errc::bad_request, std::move(code), std::move(message), {}};
}

// No such object in the caller's project.
api_error not_found(std::string what, std::string id)
{
    return {errc::not_found, "not_found", what + " " + id + " not found", {}};
}

// A bug or broken infrastructure; the message discloses nothing.
api_error internal_error()
{
    return {errc::internal, "internal_error", "internal error; the server log has the details", {}};
}

// Carries an api_error out of a write transaction.
api_exception::api_exception(api_error error) : std::runtime_error(error.message), error_(std::move(error)) {}

} // namespace profiled
