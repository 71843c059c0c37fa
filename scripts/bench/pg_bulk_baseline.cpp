// The bare PostgreSQL limit of profiled's bulk upserts: the same NDJSON rows loaded into the same schema (the
// migration's users table) in transactions of 10,000 rows, each a COPY into a temporary table and one
// INSERT ... SELECT ... ON CONFLICT DO UPDATE with profiled's merge (properties || excluded.properties).
// One pass over the file: the insert pass (every user new) on an empty table, or the update pass (every user
// merged) after it. Usage: pg_bulk_baseline CONNINFO ROWS.ndjson PROJECT_ID insert|update; prints rows_per_second=.
// The file is read, parsed and turned into COPY text before the clock starts, as profiled's rows are in hand
// (uploaded and spooled) when its job is accepted.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <libpq-fe.h>

namespace {

constexpr std::size_t chunk_rows = 10000;

// One parsed row: the user id and its metadata as JSON text.
struct row {
    std::string user_id;
    std::string properties;
};

// Stops the program with libpq's message.
[[noreturn]] void die(PGconn* db, const char* what)
{
    std::fprintf(stderr, "%s: %s\n", what, PQerrorMessage(db));
    std::exit(1);
}

// Runs a statement without parameters and checks it succeeded.
void exec(PGconn* db, const std::string& sql)
{
    PGresult* r = PQexec(db, sql.c_str());
    auto status = PQresultStatus(r);
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
        std::fprintf(stderr, "%s: %s\n", sql.c_str(), PQresultErrorMessage(r));
        std::exit(1);
    }
    PQclear(r);
}

// The value in COPY's text format: backslash, tab, newline and carriage return escaped.
void append_copy_value(std::string& out, const std::string& value)
{
    for (char c : value) {
        switch (c) {
        case '\\': out += "\\\\"; break;
        case '\t': out += "\\t"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        default: out += c;
        }
    }
}

// A random internal id, as profiled proposes one for every row (kept only by new users).
std::string public_id(std::mt19937_64& rng)
{
    static const char alphabet[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    std::string id = "usr_";
    for (int i = 0; i < 16; ++i)
        id += alphabet[rng() % 62];
    return id;
}

// Each chunk's COPY data (user_id, public_id, properties), built before timing.
std::vector<std::string> copy_chunks(const std::vector<row>& rows, std::mt19937_64& rng)
{
    std::vector<std::string> chunks;
    for (std::size_t begin = 0; begin < rows.size(); begin += chunk_rows) {
        std::string data;
        for (std::size_t i = begin; i < rows.size() && i < begin + chunk_rows; ++i) {
            append_copy_value(data, rows[i].user_id);
            data += '\t';
            data += public_id(rng);
            data += '\t';
            append_copy_value(data, rows[i].properties);
            data += '\n';
        }
        chunks.push_back(std::move(data));
    }
    return chunks;
}

// Loads every chunk, one transaction each; returns rows per second.
double load(PGconn* db, const std::vector<std::string>& chunks, std::size_t rows, const std::string& project)
{
    const std::string merge =
        "INSERT INTO users AS u (project_id, user_id, public_id, properties, created_at, updated_at) "
        "SELECT " +
        project +
        ", user_id, public_id, properties, $1::bigint, $1::bigint FROM incoming "
        "ON CONFLICT (project_id, user_id) DO UPDATE SET email = coalesce(excluded.email, u.email), "
        "phone = coalesce(excluded.phone, u.phone), company_id = coalesce(excluded.company_id, u.company_id), "
        "properties = u.properties || excluded.properties, origin = u.origin || excluded.origin, "
        "updated_at = excluded.updated_at";
    auto start = std::chrono::steady_clock::now();
    for (const auto& data : chunks) {
        exec(db, "BEGIN");
        PGresult* r = PQexec(db, "COPY incoming FROM STDIN");
        if (PQresultStatus(r) != PGRES_COPY_IN)
            die(db, "COPY");
        PQclear(r);
        if (PQputCopyData(db, data.data(), static_cast<int>(data.size())) != 1 || PQputCopyEnd(db, nullptr) != 1)
            die(db, "COPY data");
        r = PQgetResult(db);
        if (PQresultStatus(r) != PGRES_COMMAND_OK)
            die(db, "COPY end");
        PQclear(r);
        PQclear(PQgetResult(db));
        std::string now = std::to_string(
            std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
                .count());
        const char* params[] = {now.c_str()};
        r = PQexecParams(db, merge.c_str(), 1, nullptr, params, nullptr, nullptr, 0);
        if (PQresultStatus(r) != PGRES_COMMAND_OK)
            die(db, "INSERT ... ON CONFLICT");
        PQclear(r);
        exec(db, "COMMIT");
    }
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return static_cast<double>(rows) / seconds;
}

} // namespace

int main(int argc, char** argv)
{
    std::string pass = argc == 5 ? argv[4] : "";
    if (pass != "insert" && pass != "update") {
        std::fprintf(stderr, "usage: %s CONNINFO ROWS.ndjson PROJECT_ID insert|update\n", argv[0]);
        return 2;
    }
    std::vector<row> rows;
    std::ifstream in(argv[2]);
    for (std::string line; std::getline(in, line);) {
        if (line.empty())
            continue;
        auto v = boost::json::parse(line).as_object();
        rows.push_back({std::string(v.at("user_id").as_string()), boost::json::serialize(v.at("metadata"))});
    }
    std::mt19937_64 rng(pass == "insert" ? 42 : 43);
    auto chunks = copy_chunks(rows, rng);

    PGconn* db = PQconnectdb(argv[1]);
    if (PQstatus(db) != CONNECTION_OK)
        die(db, "connect");
    exec(db, "CREATE TEMP TABLE incoming (user_id text, public_id text, properties jsonb) ON COMMIT DELETE ROWS");
    double rate = load(db, chunks, rows.size(), argv[3]);
    PQfinish(db);
    std::printf("rows=%zu\nrows_per_second=%.0f\n", rows.size(), rate);
    return 0;
}
