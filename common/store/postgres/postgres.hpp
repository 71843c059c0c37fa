// A thin RAII layer over blocking libpq: connections, prepared parameterised queries, results, transactions.
//
// Blocking on purpose: the store's writer and each reader already run on threads of their own (the writer
// thread, the reader pool), one connection each, and the io thread never calls the store. Non-blocking libpq
// driven by Asio would only move the same waits onto the event loop and buy nothing.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/store/store_error.hpp"

struct pg_conn;
struct pg_result;

namespace profiled {

// The failure taxonomy's kind of a SQLSTATE: 08xxx unavailable, 53100 storage_full, 40001/40P01/55P03 busy,
// 25006 unwritable, anything else other.
store_failure classify_sqlstate(std::string_view sqlstate) noexcept;

// A failure reported by PostgreSQL (or libpq), classified by its SQLSTATE; the text never holds a password.
class postgres_error : public store_error {
public:
    postgres_error(std::string sqlstate, const std::string& message);
    // With the kind already decided (a connection that could not be made or was lost is unavailable).
    postgres_error(std::string sqlstate, store_failure kind, const std::string& message);
    // The five-character SQLSTATE; empty when libpq gave none (a lost connection).
    const std::string& sqlstate() const noexcept { return sqlstate_; }

private:
    std::string sqlstate_;
};

// The notification channel on which every change of the API keys (by a daemon or the CLI) is announced.
inline constexpr const char* pg_key_channel = "profiled_keys";

// The URL with its password (in the user info or a password= parameter) replaced by "***", for logs and errors.
std::string redact_database_url(std::string_view url);

// The rows a statement returned, read as text; owns the libpq result.
class pg_rows {
public:
    explicit pg_rows(pg_result* result) : result_(result) {}
    // Moved, never copied: one owner frees the result.
    pg_rows(pg_rows&&) noexcept = default;
    pg_rows& operator=(pg_rows&&) noexcept = default;
    ~pg_rows();

    // How many rows came back.
    int size() const;
    bool empty() const { return size() == 0; }
    // How many rows an INSERT, UPDATE or DELETE touched.
    std::int64_t affected() const;

    // Column col of row row (both 0-based): whether it is NULL, then its value as text, a number, or either
    // of those or nothing when NULL.
    bool is_null(int row, int col) const;
    std::string text(int row, int col) const;
    std::int64_t int64(int row, int col) const;
    std::optional<std::string> optional_text(int row, int col) const;
    std::optional<std::int64_t> optional_int64(int row, int col) const;

private:
    struct clear {
        void operator()(pg_result* r) const noexcept;
    };
    std::unique_ptr<pg_result, clear> result_;
};

// The JSON text with every \u0000 escape, which jsonb cannot hold, as \uFFFD (the replacement character).
std::string jsonb_text(std::string_view json);

// One statement parameter in text form; nothing is SQL NULL.
using pg_param = std::optional<std::string>;

// Parameters in text form, from the C++ values the engine binds.
inline pg_param to_param(const std::string& v) { return v; }
inline pg_param to_param(std::string_view v) { return std::string(v); }
inline pg_param to_param(const char* v) { return std::string(v); }
inline pg_param to_param(std::int64_t v) { return std::to_string(v); }
inline pg_param to_param(int v) { return std::to_string(v); }
inline pg_param to_param(std::nullopt_t) { return std::nullopt; }
template <typename T>
pg_param to_param(const std::optional<T>& v)
{
    return v ? to_param(*v) : std::nullopt;
}

// A PostgreSQL array literal ({"a","b",NULL}) of the values, for a $n::text[] (or ::bigint[], ::jsonb[]) parameter.
std::string array_literal(const std::vector<pg_param>& values);

// One open connection, its statements prepared once each and cached by their SQL text.
class pg_connection {
public:
    // Connects to the postgresql:// URL; throws postgres_error (unavailable) when it cannot, without the password.
    // Unless the URL says otherwise, a connection attempt gives up after 5 s and a TCP peer that stops answering
    // is noticed within about 10 s, so an unreachable server is a prompt 503, not a hang.
    explicit pg_connection(const std::string& url);
    ~pg_connection();
    pg_connection(const pg_connection&) = delete;
    pg_connection& operator=(const pg_connection&) = delete;

    // Runs one or more statements without parameters (DDL, BEGIN/COMMIT, SAVEPOINT).
    void exec(const std::string& sql);
    // Runs sql (prepared once per connection) with the parameters bound in order ($1, $2, ...).
    template <typename... Args>
    pg_rows query(const std::string& sql, const Args&... args)
    {
        return query_params(sql, {to_param(args)...});
    }
    // The same with the parameters already in text form. A NUL byte, which no PostgreSQL text can hold (and which
    // libpq would silently cut the parameter at), is sent as U+FFFD.
    pg_rows query_params(const std::string& sql, const std::vector<pg_param>& params);

    // Runs sql (prepared once) with the text parameters followed by one more, raw bytes sent as they are (a bytea).
    pg_rows query_with_bytes(const std::string& sql, const std::vector<pg_param>& params, std::string_view bytes);
    // Runs sql (prepared once) with text parameters; every column comes back in binary form (a bytea's bytes as
    // they are, read with pg_rows::text).
    pg_rows query_binary(const std::string& sql, const std::vector<pg_param>& params);

    // Connects again when the connection was lost (a server restart), before the next transaction; the channels
    // listened to are listened to again. Throws postgres_error (unavailable) when the server cannot be reached.
    void reconnect_if_lost();
    // Whether the connection is known to be lost (a statement failed on it, or the server closed it).
    bool lost() const;

    // Listens to the notification channel from now on, on this connection and any it reconnects to.
    void listen(const std::string& channel);
    // Waits up to timeout for a notification on a channel listened to; true when one (or more) came, all of them
    // consumed. Throws postgres_error (unavailable) when the connection is lost meanwhile.
    bool wait_for_notification(std::chrono::milliseconds timeout);

private:
    // The statement name of sql, prepared on first use.
    const std::string& prepared(const std::string& sql);
    // The result, or a postgres_error carrying its SQLSTATE.
    pg_rows checked(pg_result* result);
    // Throws the connection's last error.
    [[noreturn]] void fail(const char* what);

    std::string url_;
    std::string password_; // scrubbed from every error text, should the server ever echo it
    pg_conn* conn_ = nullptr;
    std::unordered_map<std::string, std::string> prepared_; // SQL text -> statement name
    std::vector<std::string> channels_;                     // LISTENed to, again after a reconnect
};

// Rolls back unless commit() was called.
class pg_transaction {
public:
    explicit pg_transaction(pg_connection& db, const char* begin = "BEGIN");
    ~pg_transaction();
    // Commits; the destructor then does nothing.
    void commit();
    // Whether COMMIT was sent: a connection lost after that leaves unknown whether the transaction committed,
    // one lost before it means it did not.
    bool commit_sent() const { return commit_sent_; }

private:
    pg_connection& db_;
    bool open_ = true;
    bool commit_sent_ = false;
};

} // namespace profiled
