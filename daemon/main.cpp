// profiled's command line: serve, keys, jobs, import, version.
#include <iostream>
#include <string>
#include <vector>

#include "common/ops/build_info.hpp"
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
    out << "profiled " << profiled::build_version()
        << " - user-profile ingestion daemon\n\n"
           "Usage: profiled COMMAND [options]\n\n"
           "Commands:\n"
           "  serve     run the daemon (profiled serve --help)\n"
           "  keys      create, list or revoke API keys (profiled keys --help)\n"
           "  jobs      list bulk jobs, follow one until it ends, or cancel one (profiled jobs --help)\n"
           "  import    upload bulk files to a running daemon and follow their jobs (profiled import --help)\n"
           "  export    stream a project's profiles from a running daemon as NDJSON (profiled export --help)\n"
           "  version   print the version, git revision and build date\n\n"
           "Environment:\n"
           "  PROFILED_DATA_DIR, PROFILED_DATABASE  where the data is (serve, keys, jobs list)\n"
           "  PROFILED_URL, PROFILED_API_KEY        the daemon and key to use (import, export, jobs watch|cancel)\n"
           "  serve reads each of its settings from PROFILED_* as well (profiled serve --help)\n";
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
        std::cout << "profiled " << profiled::build_version() << "\nrevision " << profiled::build_revision()
                  << "\nbuilt " << profiled::build_date() << "\n";
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
