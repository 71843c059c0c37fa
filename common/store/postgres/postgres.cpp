#include "common/store/postgres/postgres.hpp"

#include <cerrno>
#include <cstdlib>

#include <libpq-fe.h>
#include <poll.h>

namespace profiled {
namespace {

// text with every occurrence of secret replaced by "***".
std::string scrub(std::string text, const std::string& secret)
{
    if (secret.empty())
        return text;
    for (auto at = text.find(secret); at != std::string::npos; at = text.find(secret, at + 3))
        text.replace(at, secret.size(), "***");
    return text;
}

// The message libpq gives, without its trailing newline.
std::string trimmed(const char* message)
{
    std::string text = message ? message : "";
    while (!text.empty() && (text.back() == '\n' || text.back() == ' '))
        text.pop_back();
    return text;
}

} // namespace

store_failure classify_sqlstate(std::string_view s) noexcept
{
    if (s.empty() || s.starts_with("08") || s == "57P01" || s == "57P02" || s == "57P03")
        return store_failure::unavailable;
    if (s == "53100")
        return store_failure::storage_full;
    if (s == "40001" || s == "40P01" || s == "55P03")
        return store_failure::busy;
    if (s == "25006")
        return store_failure::unwritable;
    return store_failure::other;
}

postgres_error::postgres_error(std::string sqlstate, const std::string& message)
    : store_error(classify_sqlstate(sqlstate), message), sqlstate_(std::move(sqlstate))
{
}

postgres_error::postgres_error(std::string sqlstate, store_failure kind, const std::string& message)
    : store_error(kind, message), sqlstate_(std::move(sqlstate))
{
}

std::string redact_database_url(std::string_view url)
{
    std::string out(url);
    // The user info's password: scheme://user:password@host...
    if (auto scheme = out.find("://"); scheme != std::string::npos) {
        std::size_t start = scheme + 3;
        std::size_t query = out.find('?', start);
        std::size_t at = out.rfind('@', query == std::string::npos ? std::string::npos : query);
        if (at != std::string::npos && at >= start) {
            std::size_t colon = out.find(':', start);
            if (colon != std::string::npos && colon < at)
                out.replace(colon + 1, at - colon - 1, "***");
        }
    }
    // A password= parameter (URL query or key=value connection string).
    for (std::size_t at = out.find("password="); at != std::string::npos; at = out.find("password=", at + 1)) {
        std::size_t value = at + 9;
        std::size_t end = out.find_first_of("& ", value);
        out.replace(value, (end == std::string::npos ? out.size() : end) - value, "***");
    }
    return out;
}

pg_rows::~pg_rows() = default;

void pg_rows::clear::operator()(pg_result* r) const noexcept { PQclear(r); }

int pg_rows::size() const { return PQntuples(result_.get()); }

std::int64_t pg_rows::affected() const
{
    const char* n = PQcmdTuples(result_.get());
    return n && *n ? std::strtoll(n, nullptr, 10) : 0;
}

bool pg_rows::is_null(int row, int col) const { return PQgetisnull(result_.get(), row, col) != 0; }

std::string pg_rows::text(int row, int col) const
{
    return {PQgetvalue(result_.get(), row, col), static_cast<std::size_t>(PQgetlength(result_.get(), row, col))};
}

std::int64_t pg_rows::int64(int row, int col) const
{
    return std::strtoll(PQgetvalue(result_.get(), row, col), nullptr, 10);
}

std::optional<std::string> pg_rows::optional_text(int row, int col) const
{
    if (is_null(row, col))
        return std::nullopt;
    return text(row, col);
}

std::optional<std::int64_t> pg_rows::optional_int64(int row, int col) const
{
    if (is_null(row, col))
        return std::nullopt;
    return int64(row, col);
}

std::string jsonb_text(std::string_view json)
{
    std::string out;
    out.reserve(json.size());
    for (std::size_t i = 0; i < json.size(); ++i) {
        out += json[i];
        if (json[i] != '\\' || i + 1 >= json.size())
            continue;
        // An escape is two characters at least, so the one after a backslash is never the start of another.
        if (json.substr(i + 1, 5) == "u0000") {
            out += "ufffd";
            i += 5;
        } else {
            out += json[++i];
        }
    }
    return out;
}

std::string array_literal(const std::vector<pg_param>& values)
{
    std::string out = "{";
    for (const auto& v : values) {
        if (out.size() > 1)
            out += ',';
        if (!v) {
            out += "NULL";
            continue;
        }
        out += '"';
        for (char c : *v) {
            if (c == '"' || c == '\\')
                out += '\\';
            out += c;
        }
        out += '"';
    }
    out += '}';
    return out;
}

pg_connection::pg_connection(const std::string& url) : url_(url)
{
    // Defaults the URL may override (it comes after them): a server that is down or unreachable must fail a
    // connection attempt, and a peer that vanished a query, within seconds rather than the kernel's minutes.
    const char* keys[] = {"connect_timeout",
                          "keepalives_idle",
                          "keepalives_interval",
                          "keepalives_count",
                          "tcp_user_timeout",
                          "dbname",
                          nullptr};
    const char* values[] = {"5", "5", "2", "3", "10000", url_.c_str(), nullptr};
    conn_ = PQconnectdbParams(keys, values, 1);
    if (conn_ && PQpass(conn_))
        password_ = PQpass(conn_);
    if (!conn_ || PQstatus(conn_) != CONNECTION_OK) {
        std::string detail = conn_ ? trimmed(PQerrorMessage(conn_)) : "out of memory";
        PQfinish(conn_);
        conn_ = nullptr;
        throw postgres_error("", store_failure::unavailable,
                             scrub("cannot connect to " + redact_database_url(url_) + ": " + detail, password_));
    }
    // Notices ("relation already exists, skipping") are for an interactive session, not the daemon's stderr.
    PQsetNoticeProcessor(
        conn_, [](void*, const char*) {}, nullptr);
}

pg_connection::~pg_connection() { PQfinish(conn_); }

void pg_connection::fail(const char* what)
{
    bool lost = PQstatus(conn_) == CONNECTION_BAD;
    throw postgres_error("", lost ? store_failure::unavailable : store_failure::other,
                         scrub(std::string(what) + ": " + trimmed(PQerrorMessage(conn_)), password_));
}

pg_rows pg_connection::checked(pg_result* result)
{
    if (!result)
        fail("PostgreSQL gave no result");
    pg_rows rows(result);
    auto status = PQresultStatus(result);
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK)
        return rows;
    const char* state = PQresultErrorField(result, PG_DIAG_SQLSTATE);
    std::string sqlstate = state ? state : "";
    std::string message = trimmed(PQresultErrorMessage(result));
    if (sqlstate.empty() && PQstatus(conn_) == CONNECTION_BAD)
        throw postgres_error("", store_failure::unavailable, scrub("connection lost: " + message, password_));
    throw postgres_error(sqlstate, scrub(message, password_));
}

void pg_connection::exec(const std::string& sql) { checked(PQexec(conn_, sql.c_str())); }

const std::string& pg_connection::prepared(const std::string& sql)
{
    auto it = prepared_.find(sql);
    if (it == prepared_.end()) {
        std::string name = "s" + std::to_string(prepared_.size() + 1);
        checked(PQprepare(conn_, name.c_str(), sql.c_str(), 0, nullptr));
        it = prepared_.emplace(sql, std::move(name)).first;
    }
    return it->second;
}

pg_rows pg_connection::query_with_bytes(const std::string& sql, const std::vector<pg_param>& params,
                                        std::string_view bytes)
{
    const std::string& name = prepared(sql);
    std::vector<const char*> values;
    std::vector<int> lengths;
    std::vector<int> formats;
    for (const auto& p : params) {
        values.push_back(p ? p->c_str() : nullptr);
        lengths.push_back(0);
        formats.push_back(0);
    }
    values.push_back(bytes.empty() ? "" : bytes.data()); // a null pointer would be SQL NULL
    lengths.push_back(static_cast<int>(bytes.size()));
    formats.push_back(1);
    return checked(PQexecPrepared(conn_, name.c_str(), static_cast<int>(values.size()), values.data(), lengths.data(),
                                  formats.data(), 0));
}

pg_rows pg_connection::query_binary(const std::string& sql, const std::vector<pg_param>& params)
{
    const std::string& name = prepared(sql);
    std::vector<const char*> values;
    for (const auto& p : params)
        values.push_back(p ? p->c_str() : nullptr);
    return checked(PQexecPrepared(conn_, name.c_str(), static_cast<int>(values.size()), values.data(), nullptr, nullptr,
                                  1));
}

pg_rows pg_connection::query_params(const std::string& sql, const std::vector<pg_param>& params)
{
    const std::string& statement = prepared(sql);
    std::vector<std::string> without_nul; // reserved: values points into it
    without_nul.reserve(params.size());
    std::vector<const char*> values;
    values.reserve(params.size());
    for (const auto& p : params) {
        if (p && p->find('\0') != std::string::npos) {
            std::string& text = without_nul.emplace_back();
            for (char c : *p) {
                if (c == '\0')
                    text += "\xEF\xBF\xBD";
                else
                    text += c;
            }
            values.push_back(text.c_str());
            continue;
        }
        values.push_back(p ? p->c_str() : nullptr);
    }
    return checked(PQexecPrepared(conn_, statement.c_str(), static_cast<int>(values.size()), values.data(), nullptr,
                                  nullptr, 0));
}

void pg_connection::reconnect_if_lost()
{
    if (PQstatus(conn_) == CONNECTION_OK)
        return;
    // The server forgot this session's prepared statements and its LISTENs with it.
    prepared_.clear();
    PQreset(conn_);
    if (PQstatus(conn_) != CONNECTION_OK)
        throw postgres_error("", store_failure::unavailable,
                             scrub("cannot reconnect to " + redact_database_url(url_) + ": " +
                                       trimmed(PQerrorMessage(conn_)),
                                   password_));
    for (const auto& channel : channels_)
        exec("LISTEN " + channel);
}

bool pg_connection::lost() const { return PQstatus(conn_) != CONNECTION_OK; }

void pg_connection::listen(const std::string& channel)
{
    exec("LISTEN " + channel);
    channels_.push_back(channel);
}

bool pg_connection::wait_for_notification(std::chrono::milliseconds timeout)
{
    auto take_all = [this] {
        bool any = false;
        while (PGnotify* n = PQnotifies(conn_)) {
            PQfreemem(n);
            any = true;
        }
        return any;
    };
    // Some may have come in with the result of an earlier statement.
    if (take_all())
        return true;
    int fd = PQsocket(conn_);
    if (fd < 0)
        fail("the connection is closed");
    pollfd ready{fd, POLLIN, 0};
    int n = ::poll(&ready, 1, static_cast<int>(timeout.count()));
    if (n < 0 && errno != EINTR)
        fail("waiting for a notification");
    if (n > 0 && (!PQconsumeInput(conn_) || PQstatus(conn_) != CONNECTION_OK))
        fail("connection lost");
    return take_all();
}

pg_transaction::pg_transaction(pg_connection& db, const char* begin) : db_(db) { db_.exec(begin); }

pg_transaction::~pg_transaction()
{
    if (!open_)
        return;
    try {
        db_.exec("ROLLBACK");
    } catch (...) {
        // A lost connection rolled the transaction back by itself.
    }
}

void pg_transaction::commit()
{
    commit_sent_ = true;
    open_ = false;
    db_.exec("COMMIT");
}

} // namespace profiled
