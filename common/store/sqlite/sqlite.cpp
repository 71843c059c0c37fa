#include "common/store/sqlite/sqlite.hpp"

#include <sqlite3.h>

#include "common/ops/log.hpp"

namespace profiled {

namespace {

// The store's name for what an extended result code says about the database.
store_failure failure_of(int code)
{
    switch (code & 0xff) {
    case SQLITE_FULL: return store_failure::storage_full;
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return store_failure::busy;
    // Every SQLITE_READONLY_* (DBMOVED among them: the file was deleted or renamed while open), and a file that
    // cannot be opened (a missing directory, no permission).
    case SQLITE_READONLY:
    case SQLITE_CANTOPEN: return store_failure::unwritable;
    default: return store_failure::other;
    }
}

// True when the connection's database file is no longer at its path (deleted, renamed, mounted over).
bool file_has_moved(sqlite3* db)
{
    int moved = 0;
    return db && sqlite3_file_control(db, "main", SQLITE_FCNTL_HAS_MOVED, &moved) == SQLITE_OK && moved;
}

} // namespace

sqlite_error::sqlite_error(int code, const std::string& message) : store_error(failure_of(code), message), code_(code)
{
}

namespace {

// Throws the connection's last error with some context.
[[noreturn]] void fail(sqlite3* db, int rc, std::string_view what)
{
    std::string message = std::string(what) + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    // An I/O error on a file that is gone is the file being gone, not a failing disk.
    if ((rc & 0xff) == SQLITE_IOERR && file_has_moved(db))
        throw sqlite_error(rc, store_failure::unwritable, message);
    throw sqlite_error(rc, message);
}

} // namespace

sqlite_query::~sqlite_query()
{
    if (!stmt_)
        return;
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
}

void sqlite_query::bind(int i, std::int64_t v)
{
    if (int rc = sqlite3_bind_int64(stmt_, i, v); rc != SQLITE_OK)
        fail(db_, rc, "bind");
}

void sqlite_query::bind(int i, double v)
{
    if (int rc = sqlite3_bind_double(stmt_, i, v); rc != SQLITE_OK)
        fail(db_, rc, "bind");
}

void sqlite_query::bind(int i, std::string_view v)
{
    if (int rc = sqlite3_bind_text64(stmt_, i, v.data(), v.size(), borrowing_ ? SQLITE_STATIC : SQLITE_TRANSIENT,
                                     SQLITE_UTF8);
        rc != SQLITE_OK)
        fail(db_, rc, "bind");
}

void sqlite_query::bind(int i, std::nullopt_t)
{
    if (int rc = sqlite3_bind_null(stmt_, i); rc != SQLITE_OK)
        fail(db_, rc, "bind");
}

namespace {
// The statement this thread is stepping, for SQLite's log callback, which runs inside sqlite3_step.
thread_local sqlite3_stmt* stepping_statement = nullptr;
} // namespace

bool sqlite_query::step()
{
    stepping_statement = stmt_;
    int rc = sqlite3_step(stmt_);
    stepping_statement = nullptr;
    if (rc == SQLITE_ROW)
        return true;
    if (rc == SQLITE_DONE)
        return false;
    fail(db_, rc, sqlite3_sql(stmt_));
}

void sqlite_query::run()
{
    while (step()) {
    }
}

std::int64_t sqlite_query::int64(int col) const { return sqlite3_column_int64(stmt_, col); }
double sqlite_query::real(int col) const { return sqlite3_column_double(stmt_, col); }

std::string sqlite_query::text(int col) const
{
    auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
    return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col))) : std::string();
}

std::optional<std::string> sqlite_query::optional_text(int col) const
{
    if (is_null(col))
        return std::nullopt;
    return text(col);
}

std::optional<std::int64_t> sqlite_query::optional_int64(int col) const
{
    if (is_null(col))
        return std::nullopt;
    return int64(col);
}

bool sqlite_query::is_null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

namespace {
// Turns off SQLite's allocation statistics before its first use: keeping them takes a global mutex on
// every allocation, which showed in profiles of single writes.
void configure_sqlite_once()
{
    static const bool configured = [] {
        sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
        return true;
    }();
    (void)configured;
}
} // namespace

sqlite_connection::sqlite_connection(const std::string& path, bool read_only) : read_only_(read_only)
{
    configure_sqlite_once();
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
    if (!read_only)
        flags |= SQLITE_OPEN_CREATE;
    if (int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr); rc != SQLITE_OK) {
        std::string message = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
        sqlite3_close_v2(db_);
        db_ = nullptr;
        throw sqlite_error(rc, "cannot open " + path + ": " + message);
    }
    sqlite3_extended_result_codes(db_, 1);
    sqlite3_busy_timeout(db_, 5000);
    exec("PRAGMA foreign_keys = ON");
    if (read_only) {
        exec("PRAGMA query_only = ON");
    } else {
        // WAL with synchronous=FULL: every commit is fsynced before it returns.
        exec("PRAGMA journal_mode = WAL");
        exec("PRAGMA synchronous = FULL");
    }
    exec("PRAGMA temp_store = MEMORY");
    exec("PRAGMA cache_size = -16000");
}

sqlite_connection::~sqlite_connection()
{
    for (auto& [sql, stmt] : statements_)
        sqlite3_finalize(stmt);
    sqlite3_close_v2(db_);
}

void sqlite_connection::exec(const std::string& sql)
{
    char* err = nullptr;
    if (int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err); rc != SQLITE_OK) {
        std::string message = err ? err : sqlite3_errstr(rc);
        sqlite3_free(err);
        throw sqlite_error(rc, message + " (in: " + sql + ")");
    }
}

// The prepared statement for sql, prepared on first use.
sqlite3_stmt* sqlite_connection::cached(std::string_view sql)
{
    if (auto it = statements_.find(sql); it != statements_.end())
        return it->second;
    sqlite3_stmt* stmt = nullptr;
    if (int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &stmt,
                                    nullptr);
        rc != SQLITE_OK)
        fail(db_, rc, "prepare");
    statements_.emplace(std::string(sql), stmt);
    return stmt;
}

void sqlite_connection::check_not_moved()
{
    if (file_has_moved(db_))
        throw sqlite_error(SQLITE_READONLY_DBMOVED, "the database file was deleted or renamed while the daemon had it "
                                                    "open; restart the daemon once the file is back");
}

std::int64_t sqlite_connection::last_insert_rowid() const { return sqlite3_last_insert_rowid(db_); }
int sqlite_connection::changes() const { return sqlite3_changes(db_); }

sqlite_transaction::sqlite_transaction(sqlite_connection& db, bool immediate) : db_(db)
{
    db_.exec(immediate ? "BEGIN IMMEDIATE" : "BEGIN");
}

sqlite_transaction::~sqlite_transaction()
{
    if (open_) {
        try {
            db_.exec("ROLLBACK");
        } catch (const std::exception&) {
            // The transaction may already have been rolled back by SQLite itself.
        }
    }
}

void sqlite_transaction::commit()
{
    db_.exec("COMMIT");
    open_ = false;
}

namespace {
// SQLite's error log callback.
void sqlite_log_callback(void*, int code, const char* message)
{
    // Schema changes and WAL recovery notices are routine; the rest are worth a warning.
    int primary = code & 0xff;
    if (primary == SQLITE_SCHEMA || primary == SQLITE_NOTICE)
        return;
    // SQLite cuts its log messages at about 200 bytes, in the middle of a long statement's text: the statement
    // being stepped goes along whole, with the error's own words.
    if (stepping_statement) {
        const char* sql = sqlite3_sql(stepping_statement);
        log_event(log_level::warn, "sqlite.log", message ? message : "",
                  {{"code", code}, {"error", sqlite3_errstr(code)}, {"sql", sql ? sql : ""}});
        return;
    }
    log_event(log_level::warn, "sqlite.log", message ? message : "", {{"code", code}});
}
} // namespace

void route_sqlite_log_to_logger()
{
    static bool done = [] {
        sqlite3_config(SQLITE_CONFIG_LOG, sqlite_log_callback, nullptr);
        return true;
    }();
    (void)done;
}

} // namespace profiled
