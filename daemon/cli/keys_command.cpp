#include "daemon/cli/keys_command.hpp"

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <stdexcept>

#include <boost/program_options.hpp>
#include <fmt/format.h>

#include "common/api_keys.hpp"
#include "common/ops/clock.hpp"
#include "common/ops/settings.hpp"
#include "common/store/open_store.hpp"

namespace profiled {
namespace po = boost::program_options;

namespace {

// What the action does with the database: only `create` may bring one into being (scripts bootstrap with it).
database_use use_of(const std::string& action)
{
    if (action == "create")
        return database_use::create;
    return action == "list" ? database_use::read : database_use::write;
}

// Opens the database the URL names, or (without one) the one in data_dir, creating the directory and schema when new.
std::unique_ptr<store> open_data_dir(const std::string& data_dir, const std::string& database)
{
    if (!database.empty())
        return open_store(data_dir, database);
    std::error_code ec;
    std::filesystem::create_directories(data_dir, ec);
    if (ec)
        throw std::runtime_error("cannot create data directory " + data_dir + ": " + ec.message());
    return open_store(data_dir);
}

} // namespace

int run_keys_command(const std::vector<std::string>& args)
{
    std::string action = args.empty() ? "" : args[0];
    std::vector<std::string> rest(args.begin() + (args.empty() ? 0 : 1), args.end());
    std::string data_dir = default_data_dir(), database = default_database_url(), project = "default",
                kind_name = "secret", prefix;

    po::options_description opts("Options");
    opts.add_options()("help,h", "show this help")(
        "data-dir", po::value(&data_dir)->value_name("DIR")->default_value(data_dir),
        "the daemon's data directory, holding profiled.db ($PROFILED_DATA_DIR when set)")(
        "database", po::value(&database)->value_name("URL"),
        "the database URL the daemon is given, if any, instead of DIR/profiled.db ($PROFILED_DATABASE when set)");
    if (action == "create")
        opts.add_options()("project", po::value(&project)->value_name("NAME")->default_value(project),
                           "the project the key belongs to; created when new")(
            "kind", po::value(&kind_name)->value_name("KIND")->default_value(kind_name),
            "secret (every endpoint) or public (only POST /public/identify)");
    // revoke's KEY_PREFIX is positional; --prefix is still taken, as older scripts spell it.
    po::options_description hidden;
    po::positional_options_description positional;
    if (action == "revoke") {
        hidden.add_options()("prefix", po::value(&prefix));
        positional.add("prefix", 1);
    }
    po::options_description all;
    all.add(opts).add(hidden);
    if (action != "create" && action != "list" && action != "revoke") {
        // Asked-for help goes to stdout and succeeds; a missing or unknown action is a usage error.
        bool asked = action == "--help" || action == "-h" || action == "help";
        (asked ? std::cout : std::cerr)
            << "Usage: profiled keys create|list|revoke [options]\n\n"
               "  create [--project NAME] [--kind secret|public]   prints the new key\n"
               "  list                                             shows every key's prefix, project, kind, state\n"
               "  revoke KEY_PREFIX                                revokes the live keys with that prefix\n\n"
               "Each takes --data-dir DIR (default $PROFILED_DATA_DIR or /var/lib/profiled), --database URL\n"
               "(default $PROFILED_DATABASE) and --help.\n";
        return asked ? 0 : 2;
    }
    po::variables_map vm;
    try {
        po::store(po::command_line_parser(rest).options(all).positional(positional).run(), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        std::cerr << "profiled keys " << action << ": " << e.what() << "\n";
        return 2;
    }
    if (vm.count("help")) {
        if (action == "create")
            std::cout << "Usage: profiled keys create [--project NAME] [--kind secret|public] [options]\n\n"
                         "Creates an API key of the project and prints it, once: profiled keeps only its hash.\n\n";
        else if (action == "list")
            std::cout << "Usage: profiled keys list [options]\n\n"
                         "Shows every key's prefix, project, kind, creation time and state; never a key itself.\n\n";
        else
            std::cout << "Usage: profiled keys revoke KEY_PREFIX [options]\n\n"
                         "Revokes the live keys whose prefix (as profiled keys list shows it) or whole key is\n"
                         "KEY_PREFIX; a running daemon refuses them from its next request on.\n\n";
        std::cout << opts
                  << "\nEnvironment:\n"
                     "  PROFILED_DATA_DIR  default of --data-dir\n"
                     "  PROFILED_DATABASE  default of --database\n";
        return 0;
    }
    // Usage errors are refused before the data directory is touched.
    if (action == "create" && kind_name != "secret" && kind_name != "public") {
        std::cerr << "profiled keys create: --kind must be secret or public\n";
        return 2;
    }
    if (action == "create" && project.empty()) {
        std::cerr << "profiled keys create: --project must not be empty\n";
        return 2;
    }
    if (action == "revoke" && prefix.size() < 6) {
        std::cerr << "profiled keys revoke: give the KEY_PREFIX as `profiled keys list` shows it\n";
        return 2;
    }
    // A listing or a revocation must not create an empty database where the operator mistyped the directory.
    if (auto problem = database.empty() ? database_problem(data_dir, use_of(action)) : std::nullopt) {
        std::cerr << "profiled keys " << action << ": " << *problem << "\n";
        return 1;
    }
    try {
        check_database_url(database);
        auto db = open_data_dir(data_dir, database);
        if (action == "create") {
            key_kind kind = kind_name == "public" ? key_kind::public_key : key_kind::secret;
            generated_key key = generate_api_key(kind);
            auto w = db->open_writer();
            std::int64_t now = now_ms();
            api_key_record record;
            record.project_id = w->ensure_project(project, now);
            record.kind = kind;
            record.prefix = key.prefix;
            record.key_hash = key.key_hash;
            record.created_at = now;
            w->insert_key(record);
            std::cout << key.key << "\n";
            return 0;
        }
        if (action == "list") {
            auto r = db->open_reader();
            std::cout << fmt::format("{:<14} {:<20} {:<7} {:<24} {}\n", "PREFIX", "PROJECT", "KIND", "CREATED", "STATE");
            for (const auto& k : r->list_keys())
                std::cout << fmt::format("{:<14} {:<20} {:<7} {:<24} {}\n", k.prefix, k.project, key_kind_name(k.kind),
                                         format_rfc3339(k.created_at), k.revoked_at ? "revoked" : "active");
            return 0;
        }
        // revoke
        auto w = db->open_writer();
        int n = w->revoke_keys(api_key_prefix(prefix), now_ms());
        if (n == 0) {
            std::cerr << "profiled keys revoke: no active key has prefix " << prefix << "\n";
            return 1;
        }
        std::cout << fmt::format("revoked {} key{}\n", n, n == 1 ? "" : "s");
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "profiled keys " << action << ": " << e.what() << "\n";
        return 1;
    }
}

} // namespace profiled
