// The engines the store tests run against, each test once per engine: GENERATE(test::sqlite, test::postgres).
#pragma once

#include <memory>
#include <string>

#include "common/store/open_store.hpp"
#include "common/store/store.hpp"
#include "tests/support/postgres_server.hpp"
#include "tests/support/scratch_dir.hpp"
#include "tests/support/test_engine.hpp"

namespace profiled::test {

// A fresh, empty store of the engine, opened the way the daemon opens it (open_store with a database URL): SQLite
// in a temporary data directory, or a fresh database on the test process's throwaway PostgreSQL server.
class scratch_store {
public:
    explicit scratch_store(store_engine engine)
        : engine_(engine), url_(engine == postgres ? fresh_postgres_url() : std::string()), store_(reopen())
    {
    }

    // Closes the store and drops its PostgreSQL database (the shared server outlives the test).
    ~scratch_store()
    {
        store_.reset();
        if (url_.empty())
            return;
        try {
            postgres_server::instance().drop_database(url_);
        } catch (const std::exception&) {
            // Left for the server's end.
        }
    }
    scratch_store(const scratch_store&) = delete;
    scratch_store& operator=(const scratch_store&) = delete;

    // Opens the same database again, as a second daemon or a restarted one would.
    std::unique_ptr<store> reopen() const { return open_store(dir_.path(), url_); }

    store_engine engine() const { return engine_; }
    store& operator*() const { return *store_; }
    store* operator->() const { return store_.get(); }

private:
    store_engine engine_;
    scratch_dir dir_;
    std::string url_; // empty for SQLite
    std::unique_ptr<store> store_;
};

} // namespace profiled::test
