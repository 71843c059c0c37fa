// The store engine the tests run on. Store tests take each engine in turn (test_stores.hpp); the integration tests
// run once per engine (--engine, integration_main.cpp): on PostgreSQL every data directory a test's daemons and
// commands use gets a fresh database of its own on the throwaway server, dropped with the directory.
#pragma once

#include <string>
#include <vector>

namespace profiled::test {

// A store engine a test runs against.
enum class store_engine { sqlite, postgres };
inline constexpr store_engine sqlite = store_engine::sqlite;
inline constexpr store_engine postgres = store_engine::postgres;

// The engine's name, for CAPTURE.
inline const char* engine_name(store_engine engine) { return engine == sqlite ? "sqlite" : "postgres"; }

// Makes engine the one the integration tests' daemons and commands run on (SQLite until called).
void select_engine(store_engine engine);
// The engine the integration tests' daemons and commands run on.
store_engine current_engine();
// Whether they run on PostgreSQL.
inline bool on_postgres() { return current_engine() == postgres; }

// The URL of data_dir's own database on PostgreSQL (created on the first call), or "" on SQLite.
std::string database_of(const std::string& data_dir);
// Drops the databases of data_dir and of the directories under it, if they have any.
void drop_databases_under(const std::string& data_dir);

// env for `profiled args...`: on PostgreSQL, with PROFILED_DATABASE set to the database of the data directory the
// arguments (--data-dir) or env (PROFILED_DATA_DIR) name, unless they name a database themselves; else env as it is.
std::vector<std::string> with_engine_database(const std::vector<std::string>& args, std::vector<std::string> env);

} // namespace profiled::test
