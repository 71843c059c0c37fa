// profiled's command line: serve, keys, jobs, import, version.
#include <iostream>
#include <string>
#include <vector>

#include "common/ops/settings.hpp"
#include "daemon/cli/export_command.hpp"
#include "daemon/cli/import_command.hpp"
#include "daemon/cli/jobs_command.hpp"
#include "daemon/cli/keys_command.hpp"
#include "daemon/serve/serve.hpp"

namespace {

// The top-level usage text.
void print_usage(std::ostream& out)
{
    out << "profiled " PROFILED_VERSION " - user-profile ingestion daemon\n\n"
           "Usage: profiled COMMAND [options]\n\n"
           "Commands:\n"
           "  serve     run the daemon (profiled serve --help)\n"
           "  keys      create, list or revoke API keys (profiled keys create --help)\n"
           "  jobs      list bulk jobs from the database, cancel one (profiled jobs --help)\n"
           "  import    upload a bulk file to a running daemon and follow its job (profiled import --help)\n"
           "  export    stream a project's profiles from a running daemon as NDJSON (profiled export --help)\n"
           "  version   print the version\n";
}

} // namespace

// Dispatches to the command named by the first argument.
int main(int argc, char** argv)
{
    std::vector<std::string> args(argv + 1, argv + argc);
    if (args.empty()) {
        print_usage(std::cerr);
        return 2;
    }
    std::string command = args[0];
    std::vector<std::string> rest(args.begin() + 1, args.end());
    if (command == "--help" || command == "-h" || command == "help") {
        print_usage(std::cout);
        return 0;
    }
    if (command == "version" || command == "--version") {
        std::cout << "profiled " PROFILED_VERSION "\n";
        return 0;
    }
    if (command == "serve") {
        try {
            auto outcome = profiled::load_server_settings(rest);
            if (outcome.show_help) {
                std::cout << outcome.help_text;
                return 0;
            }
            return profiled::run_serve(outcome.settings, rest);
        } catch (const std::exception& e) {
            std::cerr << "profiled serve: " << e.what() << "\n";
            return 2;
        }
    }
    if (command == "keys")
        return profiled::run_keys_command(rest);
    if (command == "jobs")
        return profiled::run_jobs_command(rest);
    if (command == "import")
        return profiled::run_import_command(rest);
    if (command == "export")
        return profiled::run_export_command(rest);
    std::cerr << "profiled: unknown command '" << command << "'\n\n";
    print_usage(std::cerr);
    return 2;
}
