// The schema migrations embedded at build time: schemas/sql/ (SQLite) and schemas/postgres/ (PostgreSQL).
#pragma once

#include <vector>

namespace profiled {

// One ordered schema step: version N is applied after every version below it.
struct migration {
    int version;
    const char* name;
    const char* sql;
};

// Every SQLite migration this binary knows, by ascending version.
const std::vector<migration>& embedded_migrations();
// Every PostgreSQL migration this binary knows, by ascending version.
const std::vector<migration>& embedded_postgres_migrations();

} // namespace profiled
