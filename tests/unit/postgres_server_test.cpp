// The throwaway PostgreSQL server the store tests run against: fresh databases, reachable only by its socket.
#include <memory>
#include <string>

#include <catch2/catch.hpp>
#include <libpq-fe.h>

#include "tests/support/postgres_server.hpp"

namespace {

// The single value a query on the database at url returns.
std::string query_value(const std::string& url, const char* sql)
{
    std::unique_ptr<PGconn, decltype(&PQfinish)> conn(PQconnectdb(url.c_str()), &PQfinish);
    REQUIRE(PQstatus(conn.get()) == CONNECTION_OK);
    std::unique_ptr<PGresult, decltype(&PQclear)> res(PQexec(conn.get(), sql), &PQclear);
    REQUIRE(PQresultStatus(res.get()) == PGRES_TUPLES_OK);
    return PQgetvalue(res.get(), 0, 0);
}

} // namespace

TEST_CASE("each test gets a fresh database of its own on the throwaway server", "[postgres]")
{
    std::string a = profiled::test::fresh_postgres_url();
    std::string b = profiled::test::fresh_postgres_url();
    REQUIRE(a.rfind("postgresql://", 0) == 0);
    CHECK(a != b);
    CHECK(query_value(a, "SELECT current_database()") != query_value(b, "SELECT current_database()"));
    CHECK(query_value(a, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == "0");
}

TEST_CASE("the throwaway server listens on its socket only and syncs its commits", "[postgres]")
{
    std::string url = profiled::test::fresh_postgres_url();
    CHECK(query_value(url, "SHOW listen_addresses").empty());
    CHECK(query_value(url, "SHOW fsync") == "on");
    CHECK(query_value(url, "SHOW server_version_num").rfind("15", 0) == 0);
}
