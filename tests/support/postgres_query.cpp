#include "tests/support/postgres_query.hpp"

#include <memory>
#include <stdexcept>

#include <libpq-fe.h>

namespace profiled::test {

std::vector<std::vector<std::string>> query_rows(const std::string& url, const std::string& sql)
{
    std::unique_ptr<PGconn, decltype(&PQfinish)> conn(PQconnectdb(url.c_str()), &PQfinish);
    if (PQstatus(conn.get()) != CONNECTION_OK)
        throw std::runtime_error(std::string("connecting to the test database: ") + PQerrorMessage(conn.get()));
    std::unique_ptr<PGresult, decltype(&PQclear)> res(PQexec(conn.get(), sql.c_str()), &PQclear);
    if (PQresultStatus(res.get()) != PGRES_TUPLES_OK)
        throw std::runtime_error(sql + ": " + PQerrorMessage(conn.get()));
    std::vector<std::vector<std::string>> rows;
    for (int r = 0; r < PQntuples(res.get()); ++r) {
        auto& row = rows.emplace_back();
        for (int c = 0; c < PQnfields(res.get()); ++c)
            row.emplace_back(PQgetvalue(res.get(), r, c));
    }
    return rows;
}

long long query_number(const std::string& url, const std::string& sql)
{
    auto rows = query_rows(url, sql);
    if (rows.empty() || rows[0].empty())
        throw std::runtime_error(sql + ": no rows");
    return std::stoll(rows[0][0]);
}

} // namespace profiled::test
