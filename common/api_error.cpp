#include "common/api_error.hpp"

namespace profiled {

api_error missing_field(std::string field)
{
    std::string message = field + " is required";
    return {errc::bad_request, "missing_field", std::move(message), std::move(field)};
}

api_error invalid_field(std::string field, std::string message)
{
    return {errc::bad_request, "invalid_field", std::move(message), std::move(field)};
}

api_error bad_body(std::string code, std::string message)
{
    return {errc::bad_request, std::move(code), std::move(message), {}};
}

api_error not_found(std::string what, std::string id)
{
    return {errc::not_found, "not_found", what + " " + id + " not found", {}};
}

api_error internal_error()
{
    return {errc::internal, "internal_error", "internal error; the server log has the details", {}};
}

// Carries an api_error out of a write transaction.
api_exception::api_exception(api_error error) : std::runtime_error(error.message), error_(std::move(error)) {}

} // namespace profiled
