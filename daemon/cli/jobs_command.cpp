#include "daemon/cli/jobs_command.hpp"

#include <algorithm>
#include <cctype>
#include <climits>
#include <cstdlib>
#include <iostream>
#include <map>
#include <optional>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <boost/program_options.hpp>
#include <fmt/format.h>

#include "common/ops/clock.hpp"
#include "common/ops/settings.hpp"
#include "common/store/open_store.hpp"
#include "daemon/cli/daemon_request.hpp"
#include "daemon/cli/import_command.hpp"

namespace profiled {
namespace json = boost::json;
namespace po = boost::program_options;

namespace {

// What `profiled jobs --help` and a missing or unknown action print.
constexpr const char* jobs_usage =
    "Usage: profiled jobs list|watch|cancel [options]\n\n"
    "  list [--data-dir DIR] [--status STATUS] [--limit N]\n"
    "         shows the newest bulk jobs of every project, newest first, read from DIR/profiled.db\n"
    "         (default DIR: $PROFILED_DATA_DIR or /var/lib/profiled); safe while the daemon runs\n"
    "  watch JOB_ID --url URL --key KEY\n"
    "         follows a job through a running daemon until it ends ($PROFILED_URL, $PROFILED_API_KEY)\n"
    "  cancel JOB_ID --url URL --key KEY\n"
    "         asks the daemon at URL to cancel a queued or running job of KEY's project ($PROFILED_API_KEY)\n\n"
    "More: profiled jobs list --help, profiled jobs watch --help, profiled jobs cancel --help\n";

// One table row; job ids are UUIDs, 36 characters.
std::string table_line(const std::string& job_id, const std::string& project, const std::string& type,
                       const std::string& status, const std::string& rows, const std::string& failed,
                       const std::string& submitted)
{
    return fmt::format("{:<36}  {:<12}  {:<9}  {:<7}  {:>13}  {:>6}  {}\n", job_id, project, type, status, rows,
                       failed, submitted);
}

// Project names by id, from the keys table (every job was submitted with a key of its project).
std::map<std::int64_t, std::string> project_names(store_reader& reader)
{
    std::map<std::int64_t, std::string> names;
    for (const auto& key : reader.list_keys())
        names[key.project_id] = key.project;
    return names;
}

// A whole number of a job object's field, 0 when absent.
std::int64_t count_field(const json::object& job, const char* name)
{
    const json::value* v = job.if_contains(name);
    return v && v->is_int64() ? v->as_int64() : 0;
}

// A text field of a job object, empty when absent or null.
std::string text_field(const json::object& job, const char* name)
{
    const json::value* v = job.if_contains(name);
    return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

// `profiled jobs cancel JOB_ID`: through the daemon's API, so that the daemon running the job sees it at once.
int run_cancel(const std::vector<std::string>& args)
{
    std::string url, key, job_id;
    if (const char* key_from_env = std::getenv("PROFILED_API_KEY"))
        key = key_from_env;
    po::options_description opts(
        "Usage: profiled jobs cancel JOB_ID --url URL [--key KEY]\n\n"
        "Asks the daemon to cancel a bulk job of the key's project. A queued job ends at once; a running\n"
        "job ends at its next chunk, its rows applied so far staying applied. Either way it ends failed\n"
        "with error \"cancelled\". Exits 1 when the job is unknown or has already ended.\n\n"
        "Options");
    opts.add_options()("help,h", "show this help")("url", po::value(&url)->value_name("URL"),
                                                    "the daemon's address: http://HOST:PORT")(
        "key", po::value(&key)->value_name("KEY"), "a secret API key of the job's project (default $PROFILED_API_KEY)");
    po::options_description hidden;
    hidden.add_options()("job-id", po::value(&job_id));
    po::options_description all;
    all.add(opts).add(hidden);
    po::positional_options_description positional;
    positional.add("job-id", 1);
    po::variables_map vm;
    try {
        po::store(po::command_line_parser(args).options(all).positional(positional).run(), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        std::cerr << "profiled jobs cancel: " << e.what() << "\n";
        return 2;
    }
    if (vm.count("help")) {
        std::cout << opts;
        return 0;
    }
    const char* problem = job_id.empty() ? "give the JOB_ID to cancel (profiled jobs cancel --help)"
                          : url.empty()  ? "--url is required: the daemon's address, http://HOST:PORT"
                          : key.empty()  ? "--key is required (or set PROFILED_API_KEY): a secret API key of the project"
                                         : nullptr;
    if (problem) {
        std::cerr << "profiled jobs cancel: " << problem << "\n";
        return 2;
    }
    try {
        // The id goes into the path: anything but the characters of an id would change the request.
        bool plain = std::all_of(job_id.begin(), job_id.end(),
                                 [](unsigned char c) { return std::isalnum(c) || c == '-' || c == '_'; });
        if (!plain) {
            std::cerr << "profiled jobs cancel: no job " << job_id << " (a job id has letters, digits and '-')\n";
            return 1;
        }
        auto answer = ask_daemon(url, key, "POST", "/v1/background_jobs/" + job_id + "/cancel");
        if (answer.status != 202) {
            std::cerr << "profiled jobs cancel: " << describe_refusal(answer) << "\n";
            return 1;
        }
        boost::system::error_code ec;
        json::value parsed = json::parse(answer.body, ec);
        if (ec || !parsed.is_object()) {
            std::cerr << "profiled jobs cancel: the daemon's answer is not a job object\n";
            return 1;
        }
        const json::object& job = parsed.as_object();
        std::string status = text_field(job, "status");
        std::cout << table_line("JOB_ID", "PROJECT", "TYPE", "STATUS", "PROCESSED", "FAILED", "SUBMITTED");
        std::cout << table_line(text_field(job, "job_id"), "-", text_field(job, "type"), status,
                                fmt::format("{}/{}", count_field(job, "processed_rows"), count_field(job, "total_rows")),
                                std::to_string(count_field(job, "failed_rows")), text_field(job, "submitted_at"));
        if (status == "failed")
            std::cout << "cancelled: the job ended (failed, error \"" << text_field(job, "error") << "\")\n";
        else
            std::cout << "cancel requested: the job ends at its next chunk; follow it with GET "
                      << text_field(job, "job_id").insert(0, "/v1/background_jobs/") << "\n";
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "profiled jobs cancel: " << e.what() << "\n";
        return 1;
    }
}

} // namespace

// Runs a jobs subcommand.
int run_jobs_command(const std::vector<std::string>& args)
{
    std::string action = args.empty() ? "" : args[0];
    std::vector<std::string> rest(args.begin() + (args.empty() ? 0 : 1), args.end());
    std::string data_dir = default_data_dir(), database = default_database_url(), status;
    int limit = 50;

    if (action == "cancel")
        return run_cancel(rest);
    if (action == "watch")
        return run_jobs_watch_command(rest);
    if (action != "list") {
        // Asked-for help goes to stdout and succeeds; a missing or unknown action is a usage error.
        bool asked = action == "--help" || action == "-h" || action == "help";
        if (!asked)
            std::cerr << (action.empty() ? "profiled jobs: give an action\n"
                                         : "profiled jobs: unknown action '" + action + "'\n");
        (asked ? std::cout : std::cerr) << jobs_usage;
        return asked ? 0 : 2;
    }
    po::options_description opts("Options");
    opts.add_options()("help,h", "show this help")(
        "data-dir", po::value(&data_dir)->value_name("DIR")->default_value(data_dir),
        "the daemon's data directory, holding profiled.db ($PROFILED_DATA_DIR when set)")(
        "database", po::value(&database)->value_name("URL"),
        "the database URL the daemon is given, if any, instead of DIR/profiled.db ($PROFILED_DATABASE when set)")(
        "status", po::value(&status)->value_name("STATUS"), "only jobs in this status: queued, running, done or failed")(
        "limit", po::value(&limit)->value_name("N")->default_value(limit), "show at most N jobs");
    po::variables_map vm;
    try {
        po::store(po::command_line_parser(rest).options(opts).run(), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        std::cerr << "profiled jobs list: " << e.what() << "\n";
        return 2;
    }
    if (vm.count("help")) {
        std::cout << "Usage: profiled jobs list [--data-dir DIR] [--status STATUS] [--limit N]\n\n"
                     "Shows the newest bulk jobs of every project, newest first, one line each: the job id, the\n"
                     "project, users or companies, the status, rows processed of the upload's total, rows that\n"
                     "failed validation, and when it was submitted. Reads DIR/profiled.db directly, so it works\n"
                     "whether or not the daemon is running. A job's failed rows: GET /v1/background_jobs/ID/errors;\n"
                     "to follow one to its end: profiled jobs watch JOB_ID.\n\n"
                  << opts
                  << "\nEnvironment:\n"
                     "  PROFILED_DATA_DIR  default of --data-dir\n"
                     "  PROFILED_DATABASE  default of --database\n";
        return 0;
    }
    std::optional<job_status> wanted;
    if (!status.empty() && !(wanted = parse_job_status(status))) {
        std::cerr << "profiled jobs list: --status must be queued, running, done or failed\n";
        return 2;
    }
    if (limit < 1) {
        std::cerr << "profiled jobs list: --limit must be at least 1\n";
        return 2;
    }
    // A listing must not create an empty database where the operator mistyped the directory.
    if (auto problem = database.empty() ? database_problem(data_dir, database_use::read) : std::nullopt) {
        std::cerr << "profiled jobs list: " << *problem << "\n";
        return 1;
    }
    try {
        check_database_url(database);
        auto reader = open_store(data_dir, database)->open_reader();
        auto projects = project_names(*reader);
        // The store filters by status only per project, so with --status every job is read and filtered here.
        auto jobs = reader->list_all_jobs(wanted ? INT_MAX : limit);
        if (wanted)
            std::erase_if(jobs, [&](const job_record& j) { return j.status != *wanted; });
        if (jobs.size() > static_cast<std::size_t>(limit))
            jobs.resize(static_cast<std::size_t>(limit));
        std::cout << table_line("JOB_ID", "PROJECT", "TYPE", "STATUS", "PROCESSED", "FAILED", "SUBMITTED");
        for (const auto& j : jobs) {
            auto name = projects.find(j.project_id);
            std::cout << table_line(j.job_id, name != projects.end() ? name->second : std::to_string(j.project_id),
                                    to_string(j.type), to_string(j.status),
                                    fmt::format("{}/{}", j.processed_rows, j.total_rows), std::to_string(j.failed_rows),
                                    format_rfc3339(j.submitted_at));
        }
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "profiled jobs list: " << e.what() << "\n";
        return 1;
    }
}

} // namespace profiled
