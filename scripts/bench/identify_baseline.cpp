// The bare SQLite limit for single identifies, the baseline of the identify benchmark (issue 11).
//
//   identify_baseline DB SCHEMA.sql [SECONDS] [ROWS_PER_TRANSACTION]
//
// One `POST /v1/identify` with a company is, in the database, an upsert of the user (properties merged,
// company_id set) and an upsert of its company (properties merged). This program does exactly those two
// upserts per row, with profiled's own schema and pragmas (WAL, synchronous=FULL, so every COMMIT is
// fsynced), in transactions of ROWS_PER_TRANSACTION rows (default 64: what profiled's writer could
// commit together at best with wrk's 64 connections), for SECONDS seconds (default 10) on a fresh
// database. Rows look like scripts/bench/identify.lua's bodies: a new user id each, 6 metadata fields,
// one of 100 companies with 2 fields. A row's strings are built before its transaction starts, so the
// figure is SQLite alone. Prints key=value lines for the benchmark driver to read:
//   rows_per_second   identify rows (user + company upsert) per second of transaction time
//   commit_ms_p50/p99 the COMMIT statement alone (the WAL fsync)
//   transaction_ms_p50/p99  BEGIN to COMMIT done
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <sqlite3.h>

namespace {

using clock_type = std::chrono::steady_clock;

// Throws with SQLite's message when rc is not the expected code.
void check(sqlite3* db, int rc, int expected = SQLITE_OK)
{
    if (rc != expected)
        throw std::runtime_error(sqlite3_errmsg(db));
}

// Runs SQL without results.
void exec(sqlite3* db, const std::string& sql)
{
    char* error = nullptr;
    if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
        std::string message = error ? error : "unknown error";
        sqlite3_free(error);
        throw std::runtime_error(message);
    }
}

// Reads a whole file.
std::string read_file(const std::string& path)
{
    std::ifstream in(path);
    if (!in)
        throw std::runtime_error("cannot read " + path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

// Opens DB with the pragmas of profiled's writer connection (the SQLite wrapper in common/).
sqlite3* open_database(const std::string& path)
{
    sqlite3* db = nullptr;
    if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        nullptr) != SQLITE_OK)
        throw std::runtime_error("cannot open " + path);
    exec(db, "PRAGMA foreign_keys = ON; PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; "
             "PRAGMA temp_store = MEMORY; PRAGMA cache_size = -16000;");
    return db;
}

// A public id in profiled's format (usr_ + 16 base62 characters).
std::string public_id(std::mt19937_64& random)
{
    static const char alphabet[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    std::string id = "usr_";
    for (int i = 0; i < 16; ++i)
        id.push_back(alphabet[random() % 62]);
    return id;
}

// One identify call as the statements bind it.
struct identify_row {
    std::string user_id;
    std::string public_id;
    std::string properties;
    std::string company_id;
};

// The company's part of every body in identify.lua.
const std::string company_properties = R"({"name":"Acme","plan":"enterprise"})";

// Row number n, shaped like identify.lua's body number n.
identify_row make_row(long long n, std::mt19937_64& random)
{
    std::string number = std::to_string(n);
    return {"wrk_1_" + number, public_id(random),
            R"({"name":"Jane Doe","email":"jane)" + number +
                R"(@example.com","plan":"pro","seats":12,"active":true,"score":87.5})",
            "acme_" + std::to_string(n % 100)};
}

// A prepared statement, finalized at scope exit.
struct statement {
    sqlite3_stmt* stmt = nullptr;
    statement(sqlite3* db, const char* sql) { check(db, sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr)); }
    ~statement() { sqlite3_finalize(stmt); }
    void text(int i, const std::string& s)
    {
        sqlite3_bind_text(stmt, i, s.data(), static_cast<int>(s.size()), SQLITE_STATIC);
    }
    void run(sqlite3* db)
    {
        check(db, sqlite3_step(stmt), SQLITE_DONE);
        sqlite3_reset(stmt);
    }
};

// The value at quantile q (0..1) of sorted values.
double quantile(std::vector<double> values, double q)
{
    if (values.empty())
        return 0;
    std::sort(values.begin(), values.end());
    return values[std::min(values.size() - 1, static_cast<std::size_t>(q * static_cast<double>(values.size())))];
}

double millis(clock_type::duration d)
{
    return std::chrono::duration<double, std::milli>(d).count();
}

int run(const std::string& db_path, const std::string& schema_path, double seconds, int rows_per_transaction)
{
    sqlite3* db = open_database(db_path);
    exec(db, read_file(schema_path));
    exec(db, "INSERT INTO projects(id, name, created_at) VALUES (1, 'bench', 0)");
    long long rows = 0;
    {
        statement user(db, "INSERT INTO users(project_id, user_id, public_id, company_id, properties, created_at, "
                           "updated_at) VALUES (1, ?1, ?2, ?3, ?4, ?5, ?5) ON CONFLICT(project_id, user_id) DO UPDATE "
                           "SET company_id = excluded.company_id, properties = json_patch(users.properties, "
                           "excluded.properties), updated_at = excluded.updated_at");
        statement company(db, "INSERT INTO companies(project_id, company_id, properties, created_at, updated_at) "
                              "VALUES (1, ?1, ?2, ?3, ?3) ON CONFLICT(project_id, company_id) DO UPDATE SET "
                              "properties = json_patch(companies.properties, excluded.properties), "
                              "updated_at = excluded.updated_at");
        statement begin(db, "BEGIN IMMEDIATE");
        statement commit(db, "COMMIT");
        std::mt19937_64 random(42);
        std::vector<identify_row> batch;
        std::vector<double> commit_ms, transaction_ms;
        clock_type::duration busy{};
        auto wall_start = clock_type::now();
        while (clock_type::now() - wall_start < std::chrono::duration<double>(seconds)) {
            batch.clear();
            for (int i = 0; i < rows_per_transaction; ++i)
                batch.push_back(make_row(rows + i, random));
            long long now = std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::system_clock::now().time_since_epoch()).count();
            auto start = clock_type::now();
            begin.run(db);
            for (const auto& row : batch) {
                user.text(1, row.user_id);
                user.text(2, row.public_id);
                user.text(3, row.company_id);
                user.text(4, row.properties);
                sqlite3_bind_int64(user.stmt, 5, now);
                user.run(db);
                company.text(1, row.company_id);
                company.text(2, company_properties);
                sqlite3_bind_int64(company.stmt, 3, now);
                company.run(db);
            }
            auto commit_start = clock_type::now();
            commit.run(db);
            auto end = clock_type::now();
            commit_ms.push_back(millis(end - commit_start));
            transaction_ms.push_back(millis(end - start));
            busy += end - start;
            rows += rows_per_transaction;
        }
        double busy_seconds = std::chrono::duration<double>(busy).count();
        double wall_seconds = std::chrono::duration<double>(clock_type::now() - wall_start).count();
        std::printf("rows=%lld\n", rows);
        std::printf("transactions=%zu\n", commit_ms.size());
        std::printf("rows_per_transaction=%d\n", rows_per_transaction);
        std::printf("seconds=%.2f\n", wall_seconds);
        std::printf("rows_per_second=%.0f\n", static_cast<double>(rows) / busy_seconds);
        std::printf("wall_rows_per_second=%.0f\n", static_cast<double>(rows) / wall_seconds);
        std::printf("commit_ms_p50=%.3f\n", quantile(commit_ms, 0.5));
        std::printf("commit_ms_p99=%.3f\n", quantile(commit_ms, 0.99));
        std::printf("transaction_ms_p50=%.3f\n", quantile(transaction_ms, 0.5));
        std::printf("transaction_ms_p99=%.3f\n", quantile(transaction_ms, 0.99));
    }
    // The rows are all there: each identify stored its user, and the companies are the 100 of the bodies.
    sqlite3_stmt* count = nullptr;
    check(db, sqlite3_prepare_v2(db, "SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM companies)", -1,
                                 &count, nullptr));
    check(db, sqlite3_step(count), SQLITE_ROW);
    std::printf("users_stored=%lld\n", static_cast<long long>(sqlite3_column_int64(count, 0)));
    std::printf("companies_stored=%lld\n", static_cast<long long>(sqlite3_column_int64(count, 1)));
    sqlite3_finalize(count);
    sqlite3_close(db);
    return 0;
}

} // namespace

int main(int argc, char** argv)
{
    try {
        if (argc < 3 || argc > 5) {
            std::cerr << "usage: identify_baseline DB SCHEMA.sql [SECONDS] [ROWS_PER_TRANSACTION]\n";
            return 2;
        }
        double seconds = argc > 3 ? std::stod(argv[3]) : 10.0;
        int rows_per_transaction = argc > 4 ? std::stoi(argv[4]) : 64;
        if (seconds <= 0 || rows_per_transaction <= 0)
            throw std::runtime_error("SECONDS and ROWS_PER_TRANSACTION must be positive");
        return run(argv[1], argv[2], seconds, rows_per_transaction);
    } catch (const std::exception& e) {
        std::cerr << "identify_baseline: " << e.what() << "\n";
        return 1;
    }
}
