#include "tests/support/test_engine.hpp"

#include <map>
#include <mutex>
#include <optional>

#include "tests/support/postgres_server.hpp"

namespace profiled::test {
namespace {

store_engine selected = sqlite;

// Each data directory's database on PostgreSQL, by the directory's path.
std::mutex databases_mutex;
std::map<std::string, std::string> databases;

// Whether text starts with prefix.
bool starts_with(const std::string& text, const std::string& prefix) { return text.rfind(prefix, 0) == 0; }

// The data directory args or env name, if any.
std::optional<std::string> data_dir_named(const std::vector<std::string>& args, const std::vector<std::string>& env)
{
    std::optional<std::string> dir;
    for (std::size_t i = 0; i < args.size(); ++i) {
        if (args[i] == "--data-dir" && i + 1 < args.size())
            dir = args[i + 1];
        else if (starts_with(args[i], "--data-dir="))
            dir = args[i].substr(11);
    }
    if (dir)
        return dir;
    for (const auto& e : env) {
        if (starts_with(e, "PROFILED_DATA_DIR="))
            dir = e.substr(18);
    }
    return dir;
}

// Whether args or env name a database themselves.
bool names_database(const std::vector<std::string>& args, const std::vector<std::string>& env)
{
    for (const auto& a : args) {
        if (a == "--database" || starts_with(a, "--database="))
            return true;
    }
    for (const auto& e : env) {
        if (starts_with(e, "PROFILED_DATABASE="))
            return true;
    }
    return false;
}

} // namespace

void select_engine(store_engine engine) { selected = engine; }

store_engine current_engine() { return selected; }

std::string database_of(const std::string& data_dir)
{
    if (selected == sqlite)
        return {};
    std::lock_guard lock(databases_mutex);
    auto& url = databases[data_dir];
    if (url.empty())
        url = postgres_server::instance().fresh_database_url();
    return url;
}

void drop_databases_under(const std::string& data_dir)
{
    std::vector<std::string> dropped;
    {
        std::lock_guard lock(databases_mutex);
        for (auto it = databases.begin(); it != databases.end();) {
            if (it->first == data_dir || starts_with(it->first, data_dir + "/")) {
                dropped.push_back(it->second);
                it = databases.erase(it);
            } else {
                ++it;
            }
        }
    }
    for (const auto& url : dropped)
        postgres_server::instance().drop_database(url);
}

std::vector<std::string> with_engine_database(const std::vector<std::string>& args, std::vector<std::string> env)
{
    if (selected == sqlite || names_database(args, env))
        return env;
    if (auto dir = data_dir_named(args, env))
        env.push_back("PROFILED_DATABASE=" + database_of(*dir));
    return env;
}

} // namespace profiled::test
