#include "daemon/api/store_failures.hpp"

#include <string>

namespace profiled {

api_error api_error_for(const store_error& e)
{
    switch (e.kind()) {
    case store_failure::storage_full:
        return {errc::insufficient_storage, "disk_full", "the server's disk is full; retry later", {}};
    // Another process holds the database's lock (a backup, an operator's shell): temporary.
    case store_failure::busy:
        return {errc::unavailable, "database_busy",
                "the database is locked by another process and the request timed out waiting; retry shortly", {}};
    // Nothing can be made durable, and what is read would come from a file nobody writes any more.
    case store_failure::unwritable:
        return {errc::unavailable, "database_unwritable",
                "the database cannot be written (deleted, moved or read-only); the server log has the details", {}};
    case store_failure::unavailable:
        return {errc::unreachable, "database_unavailable", "the database cannot be reached; retry shortly", {}};
    case store_failure::other: break;
    }
    return internal_error();
}

api_error store_timeout_error()
{
    return {errc::timed_out, "store_timeout",
            "the database did not answer within the request timeout (--request-timeout); nothing was changed, "
            "retry shortly",
            {}};
}

http_response store_failure_response(const store_error& e) { return error_response(api_error_for(e)); }

} // namespace profiled
