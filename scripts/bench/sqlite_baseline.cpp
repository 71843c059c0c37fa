// The bare SQLite limit for bulk upserts, the baseline of the bulk benchmark.
//
//   sqlite_baseline upsert DB SCHEMA.sql ROWS.ndjson   times inserting (then updating) every row
//                                                      (SCHEMA "-": DB already has the schema and project 1)
//   sqlite_baseline preload DB COUNT                   fills project 1 with COUNT synthetic users
//
// Uses profiled's own schema and pragmas (WAL, synchronous=FULL) and one prepared upsert
// statement in 10,000-row transactions. Rows are parsed before the clock starts, so the figure
// is SQLite alone. Prints "rows_per_second=<n>" lines for the benchmark driver to read.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <sqlite3.h>

namespace {

namespace json = boost::json;

constexpr int rows_per_transaction = 10000;

// One user row as the statement binds it.
struct user_row {
    std::string user_id;
    std::string properties;
};

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

// Opens DB with the pragmas profiled's writer uses.
sqlite3* open_database(const std::string& path)
{
    sqlite3* db = nullptr;
    if (sqlite3_open(path.c_str(), &db) != SQLITE_OK)
        throw std::runtime_error("cannot open " + path);
    exec(db, "PRAGMA foreign_keys = ON; PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; "
             "PRAGMA temp_store = MEMORY; PRAGMA cache_size = -16000;");
    return db;
}

// Reads the NDJSON file into rows: user_id and the metadata as JSON text.
std::vector<user_row> read_rows(const std::string& path)
{
    std::ifstream in(path);
    if (!in)
        throw std::runtime_error("cannot read " + path);
    std::vector<user_row> rows;
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty())
            continue;
        json::object row = json::parse(line).as_object();
        rows.push_back({json::value_to<std::string>(row.at("user_id")), json::serialize(row.at("metadata"))});
    }
    return rows;
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

// Upserts every row with one prepared statement, committing every 10,000 rows; returns seconds taken.
double upsert_all(sqlite3* db, const std::vector<user_row>& rows, std::mt19937_64& random)
{
    sqlite3_stmt* stmt = nullptr;
    check(db, sqlite3_prepare_v2(db,
                                 "INSERT INTO users(project_id, user_id, public_id, properties, created_at, updated_at) "
                                 "VALUES (1, ?1, ?2, ?3, ?4, ?4) ON CONFLICT(project_id, user_id) DO UPDATE SET "
                                 "properties = excluded.properties, updated_at = excluded.updated_at",
                                 -1, &stmt, nullptr));
    auto start = std::chrono::steady_clock::now();
    long long now = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::system_clock::now().time_since_epoch()).count();
    for (std::size_t i = 0; i < rows.size(); ++i) {
        if (i % rows_per_transaction == 0)
            exec(db, "BEGIN IMMEDIATE");
        std::string id = public_id(random);
        sqlite3_bind_text(stmt, 1, rows[i].user_id.data(), static_cast<int>(rows[i].user_id.size()), SQLITE_STATIC);
        sqlite3_bind_text(stmt, 2, id.data(), static_cast<int>(id.size()), SQLITE_TRANSIENT);
        sqlite3_bind_text(stmt, 3, rows[i].properties.data(), static_cast<int>(rows[i].properties.size()),
                          SQLITE_STATIC);
        sqlite3_bind_int64(stmt, 4, now);
        check(db, sqlite3_step(stmt), SQLITE_DONE);
        sqlite3_reset(stmt);
        if (i % rows_per_transaction == rows_per_transaction - 1 || i + 1 == rows.size())
            exec(db, "COMMIT");
    }
    sqlite3_finalize(stmt);
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
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

// `upsert DB SCHEMA ROWS`: a fresh database, both passes timed.
int run_upsert(const std::string& db_path, const std::string& schema_path, const std::string& rows_path)
{
    std::vector<user_row> rows = read_rows(rows_path);
    sqlite3* db = open_database(db_path);
    if (schema_path != "-") {
        exec(db, read_file(schema_path));
        exec(db, "INSERT INTO projects(id, name, created_at) VALUES (1, 'bench', 0)");
    }
    std::mt19937_64 random(42);
    double insert_seconds = upsert_all(db, rows, random);
    double update_seconds = upsert_all(db, rows, random);
    sqlite3_close(db);
    std::printf("rows=%zu\n", rows.size());
    std::printf("insert_rows_per_second=%.0f\n", static_cast<double>(rows.size()) / insert_seconds);
    std::printf("update_rows_per_second=%.0f\n", static_cast<double>(rows.size()) / update_seconds);
    return 0;
}

// `preload DB COUNT`: adds COUNT users with random ids to project 1 of an existing profiled database.
int run_preload(const std::string& db_path, long long count)
{
    sqlite3* db = open_database(db_path);
    std::mt19937_64 random(7);
    std::vector<user_row> rows;
    rows.reserve(static_cast<std::size_t>(count));
    for (long long i = 0; i < count; ++i)
        rows.push_back({"pre_" + std::to_string(random()), R"({"plan":"free","seats":3,"active":true})"});
    double seconds = upsert_all(db, rows, random);
    sqlite3_close(db);
    std::printf("preloaded=%lld seconds=%.2f\n", count, seconds);
    return 0;
}

} // namespace

// Dispatches to upsert or preload.
int main(int argc, char** argv)
{
    try {
        std::string mode = argc > 1 ? argv[1] : "";
        if (mode == "upsert" && argc == 5)
            return run_upsert(argv[2], argv[3], argv[4]);
        if (mode == "preload" && argc == 4)
            return run_preload(argv[2], std::stoll(argv[3]));
        std::cerr << "usage: sqlite_baseline upsert DB SCHEMA.sql ROWS.ndjson | preload DB COUNT\n";
        return 2;
    } catch (const std::exception& e) {
        std::cerr << "sqlite_baseline: " << e.what() << "\n";
        return 1;
    }
}
