// A connection of the PostgreSQL spool's own, opened on first use and again after it was lost; private to the engine.
#pragma once

#include <memory>
#include <string>

#include "common/store/postgres/postgres.hpp"

namespace profiled {

class spool_connection {
public:
    // With deferred_commits, its commits do not wait for the disk (pieces of an upload: the commit recording their
    // job makes them durable).
    spool_connection(std::string url, bool deferred_commits);

    // Runs fn on the open connection (opening it first if need be) and returns what it returns; what fn or the
    // connection throws goes on, and the next use starts afresh.
    template <typename Fn>
    auto use(Fn fn)
    {
        try {
            return fn(open());
        } catch (...) {
            configured_ = false;
            throw;
        }
    }

private:
    // The open connection; throws postgres_error (unavailable) when there is none to be had.
    pg_connection& open();

    std::string url_;
    bool deferred_commits_;
    bool configured_ = false;
    std::unique_ptr<pg_connection> db_;
};

} // namespace profiled
