// A test's own hands on the database a data directory's daemon and commands use, on either engine (test_engine.hpp):
// SQLite's profiled.db in the directory, or the directory's PostgreSQL database.
#pragma once

#include <memory>
#include <string>

struct pg_conn;

namespace profiled {
class sqlite_connection;
}

namespace profiled::test {

// Runs one SQL statement, valid on both engines, on data_dir's database; throws when it fails.
void run_sql_on(const std::string& data_dir, const std::string& sql);

// Everything data_dir's database holds, for a search through it: SQLite's files as they are on disk (the WAL
// included), or on PostgreSQL every row of every table as text.
std::string stored_text(const std::string& data_dir);

// Another connection holding data_dir's database against writers until released: SQLite's write lock (BEGIN
// EXCLUSIVE), or on PostgreSQL an EXCLUSIVE lock on the users table; readers go on either way.
class write_lock {
public:
    explicit write_lock(const std::string& data_dir);
    // Releases the lock if still held.
    ~write_lock();
    write_lock(const write_lock&) = delete;
    write_lock& operator=(const write_lock&) = delete;

    // Rolls the locking transaction back: writers may go on.
    void release();

private:
    std::unique_ptr<sqlite_connection> sqlite_;
    pg_conn* postgres_ = nullptr;
};

} // namespace profiled::test
