// A thin RAII layer over SQLite: connections, cached prepared statements, queries, transactions.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>

#include "common/store/store_error.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace profiled {

// A failure reported by SQLite, classified when thrown into the store's failure taxonomy.
class sqlite_error : public store_error {
public:
    // Classifies code (an extended result code) by itself.
    sqlite_error(int code, const std::string& message);
    // With the kind already decided (an I/O error on a file that was moved away is unwritable, not other).
    sqlite_error(int code, store_failure kind, const std::string& message) : store_error(kind, message), code_(code) {}
    // The extended result code.
    int code() const noexcept { return code_; }

private:
    int code_;
};

// One bound, stepping statement; resets and clears its bindings when it goes out of scope.
class sqlite_query {
public:
    // With borrowing, text is bound without a copy: it must stay as it is until the query is destroyed.
    sqlite_query(sqlite3* db, sqlite3_stmt* stmt, bool borrowing = false)
        : db_(db), stmt_(stmt), borrowing_(borrowing)
    {
    }
    sqlite_query(sqlite_query&& other) noexcept : db_(other.db_), stmt_(other.stmt_), borrowing_(other.borrowing_)
    {
        other.stmt_ = nullptr;
    }
    sqlite_query(const sqlite_query&) = delete;
    sqlite_query& operator=(const sqlite_query&) = delete;
    ~sqlite_query();

    // Binds parameter i (1-based).
    void bind(int i, std::int64_t v);
    void bind(int i, int v) { bind(i, static_cast<std::int64_t>(v)); }
    void bind(int i, double v);
    void bind(int i, std::string_view v);
    void bind(int i, const std::string& v) { bind(i, std::string_view(v)); }
    void bind(int i, const char* v) { bind(i, std::string_view(v)); }
    void bind(int i, std::nullopt_t);
    template <typename T>
    void bind(int i, const std::optional<T>& v)
    {
        if (v)
            bind(i, *v);
        else
            bind(i, std::nullopt);
    }

    // Advances to the next row; false when done.
    bool step();
    // Runs a statement that returns no rows.
    void run();

    std::int64_t int64(int col) const;
    double real(int col) const;
    std::string text(int col) const;
    std::optional<std::string> optional_text(int col) const;
    std::optional<std::int64_t> optional_int64(int col) const;
    bool is_null(int col) const;

private:
    sqlite3* db_;
    sqlite3_stmt* stmt_;
    bool borrowing_;
};

// An open SQLite connection with a cache of prepared statements.
class sqlite_connection {
public:
    // Opens (creating if asked) the database file and sets the connection's pragmas.
    sqlite_connection(const std::string& path, bool read_only);
    ~sqlite_connection();
    sqlite_connection(const sqlite_connection&) = delete;
    sqlite_connection& operator=(const sqlite_connection&) = delete;

    // Runs one or more statements that return nothing (DDL, pragmas, BEGIN/COMMIT).
    void exec(const std::string& sql);

    // Prepares sql once per connection and binds args to it.
    template <typename... Args>
    sqlite_query query(std::string_view sql, const Args&... args)
    {
        // A reader sees no error of its own when its file goes away: it would go on serving the lost file.
        if (read_only_)
            check_not_moved();
        return query_as_is(sql, args...);
    }
    // The same without a reader's moved-file check (a stat of the path): for the statements asked on every
    // request (the keys' version), whose answer from a lost file is harmless, as the request's own reads check.
    template <typename... Args>
    sqlite_query query_as_is(std::string_view sql, const Args&... args)
    {
        return bound(sql, false, args...);
    }

    // The same as query_as_is, binding text without copying it: for the statements run once per row written,
    // whose arguments (the rows' own strings) outlive the query. Only named values are taken, never temporaries,
    // which would be gone before the query runs.
    template <typename... Args>
    sqlite_query borrowing_query(std::string_view sql, Args&&... args)
    {
        static_assert((std::is_lvalue_reference_v<Args> && ...), "a borrowed argument must outlive the query");
        return bound(sql, true, args...);
    }

    // Throws (SQLITE_READONLY_DBMOVED) when the database file was deleted or renamed while open: writes would
    // land in a file nobody will ever read again, reads would answer from it.
    void check_not_moved();

    std::int64_t last_insert_rowid() const;
    int changes() const;
    sqlite3* handle() const { return db_; }

private:
    sqlite3_stmt* cached(std::string_view sql);
    // The cached statement for sql with args bound in order, copying text unless borrowing.
    template <typename... Args>
    sqlite_query bound(std::string_view sql, bool borrowing, const Args&... args)
    {
        sqlite_query q(db_, cached(sql), borrowing);
        int i = 0;
        (q.bind(++i, args), ...);
        return q;
    }

    sqlite3* db_ = nullptr;
    bool read_only_;
    // Looked up by the SQL text without copying it (the text of an upsert is hashed, not allocated, per row).
    struct sql_hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view sql) const noexcept { return std::hash<std::string_view>{}(sql); }
    };
    std::unordered_map<std::string, sqlite3_stmt*, sql_hash, std::equal_to<>> statements_;
};

// Rolls back unless commit() was called.
class sqlite_transaction {
public:
    explicit sqlite_transaction(sqlite_connection& db, bool immediate = true);
    ~sqlite_transaction();
    void commit();

private:
    sqlite_connection& db_;
    bool open_ = true;
};

// Sends SQLite's own error log to our logger; call once before opening connections.
void route_sqlite_log_to_logger();

} // namespace profiled
