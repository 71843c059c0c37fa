// The schema migrations embedded from schemas/sql/ at build time.
#pragma once

#include <vector>

namespace profiled {

// One ordered schema step: version N is applied after every version below it.
struct migration {
    int version;
    const char* name;
    const char* sql;
};

// Every migration this binary knows, by ascending version.
const std::vector<migration>& embedded_migrations();

} // namespace profiled
