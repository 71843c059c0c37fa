// The one place where a store failure becomes an HTTP answer, for reads and writes alike.
#pragma once

#include "common/api_error.hpp"
#include "common/store/store_error.hpp"
#include "daemon/http/http_message.hpp"

namespace profiled {

// The client's error for a store failure: 507 disk_full, 503 database_busy / database_unwritable /
// database_unavailable, else a 500 internal_error that discloses nothing (the caller logs what()).
api_error api_error_for(const store_error& e);
// The 503 store_timeout for a request the store did not answer within --request-timeout; nothing it asked for
// was applied.
api_error store_timeout_error();
// That error as a response; database_unavailable (errc::unreachable) carries Retry-After, whether a read or a
// write met it.
http_response store_failure_response(const store_error& e);

} // namespace profiled
