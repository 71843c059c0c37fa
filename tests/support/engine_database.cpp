#include "tests/support/engine_database.hpp"

#include <fstream>
#include <iterator>
#include <memory>
#include <stdexcept>
#include <vector>

#include <libpq-fe.h>

#include "common/store/sqlite/sqlite.hpp"
#include "tests/support/postgres_cluster.hpp"
#include "tests/support/test_engine.hpp"

namespace profiled::test {
namespace {

// The bytes of a file, or "" when there is none.
std::string file_bytes(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Each row's first column of a query on the database at url.
std::vector<std::string> first_column(PGconn* conn, const std::string& sql)
{
    std::unique_ptr<PGresult, decltype(&PQclear)> res(PQexec(conn, sql.c_str()), &PQclear);
    if (PQresultStatus(res.get()) != PGRES_TUPLES_OK)
        throw std::runtime_error(sql + ": " + PQerrorMessage(conn));
    std::vector<std::string> out;
    for (int i = 0; i < PQntuples(res.get()); ++i)
        out.emplace_back(PQgetvalue(res.get(), i, 0), static_cast<std::size_t>(PQgetlength(res.get(), i, 0)));
    return out;
}

} // namespace

void run_sql_on(const std::string& data_dir, const std::string& sql)
{
    if (on_postgres()) {
        run_statement(database_of(data_dir), sql);
        return;
    }
    sqlite_connection db(data_dir + "/profiled.db", false);
    db.exec(sql);
}

std::string stored_text(const std::string& data_dir)
{
    if (!on_postgres())
        return file_bytes(data_dir + "/profiled.db") + file_bytes(data_dir + "/profiled.db-wal");
    std::unique_ptr<PGconn, decltype(&PQfinish)> conn(PQconnectdb(database_of(data_dir).c_str()), &PQfinish);
    if (PQstatus(conn.get()) != CONNECTION_OK)
        throw std::runtime_error(std::string("connecting to the test database: ") + PQerrorMessage(conn.get()));
    std::string out;
    for (const auto& table : first_column(conn.get(), "SELECT quote_ident(tablename) FROM pg_tables "
                                                      "WHERE schemaname = 'public' ORDER BY tablename")) {
        for (const auto& row : first_column(conn.get(), "SELECT t::text FROM " + table + " t"))
            out += table + " " + row + "\n";
    }
    return out;
}

write_lock::write_lock(const std::string& data_dir)
{
    if (!on_postgres()) {
        sqlite_ = std::make_unique<sqlite_connection>(data_dir + "/profiled.db", false);
        sqlite_->exec("BEGIN EXCLUSIVE");
        return;
    }
    postgres_ = PQconnectdb(database_of(data_dir).c_str());
    if (PQstatus(postgres_) != CONNECTION_OK) {
        std::string why = PQerrorMessage(postgres_);
        PQfinish(postgres_);
        throw std::runtime_error("connecting to the test database: " + why);
    }
    for (const char* sql : {"BEGIN", "LOCK TABLE users IN EXCLUSIVE MODE"}) {
        std::unique_ptr<PGresult, decltype(&PQclear)> res(PQexec(postgres_, sql), &PQclear);
        if (PQresultStatus(res.get()) != PGRES_COMMAND_OK) {
            std::string why = PQerrorMessage(postgres_);
            PQfinish(postgres_);
            throw std::runtime_error(std::string(sql) + ": " + why);
        }
    }
}

write_lock::~write_lock()
{
    try {
        release();
    } catch (const std::exception&) {
        // The connection closing below ends the transaction anyway.
    }
    if (postgres_)
        PQfinish(postgres_);
}

void write_lock::release()
{
    if (sqlite_) {
        sqlite_->exec("ROLLBACK");
        sqlite_.reset();
    }
    if (postgres_)
        PQclear(PQexec(postgres_, "ROLLBACK"));
}

} // namespace profiled::test
