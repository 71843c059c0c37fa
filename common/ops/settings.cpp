#include "common/ops/settings.hpp"

#include <algorithm>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <unistd.h>
#include <utility>

#include <boost/program_options.hpp>
#include <fmt/format.h>

#include "common/store/open_store.hpp"
#include "common/store/postgres/postgres.hpp"

namespace profiled {
namespace po = boost::program_options;

namespace {

// An unsigned setting that refuses negative text, which lexical_cast would otherwise wrap round to a huge value.
template <typename T>
class unsigned_value final : public po::typed_value<T> {
public:
    explicit unsigned_value(T* store) : po::typed_value<T>(store) {}
    void xparse(boost::any& out, const std::vector<std::string>& tokens) const override
    {
        for (const auto& t : tokens) {
            if (t.find('-') != std::string::npos)
                throw po::invalid_option_value(t);
        }
        po::typed_value<T>::xparse(out, tokens);
    }
};

// The value semantic for an unsigned setting stored in *store.
template <typename T>
po::typed_value<T>* unsigned_setting(T* store)
{
    return new unsigned_value<T>(store);
}

// Every setting of `profiled serve`, with its default; the INI file and PROFILED_* use the same names.
po::options_description setting_options(server_settings& s, std::string& format, std::string& level,
                                        std::string& timestamps)
{
    po::options_description d("Settings (also PROFILED_* and --config keys)");
    // clang-format off
    d.add_options()
        ("listen", po::value(&s.listen)->value_name("HOST:PORT")->default_value(s.listen), "HOST:PORT to listen on; port 0 picks a free port")
        ("data-dir", po::value(&s.data_dir)->value_name("DIR")->default_value(s.data_dir), "directory holding profiled.db and spool/")
        ("database", po::value(&s.database)->value_name("URL"), "postgresql://USER:PASSWORD@HOST/DB of a PostgreSQL database several daemons share; absent: SQLite in data-dir")
        ("log-format", po::value(&format)->value_name("FORMAT")->default_value("logfmt"), "logfmt or json")
        ("log-level", po::value(&level)->value_name("LEVEL")->default_value("info"), "debug, info, warn or error")
        ("log-timestamps", po::value(&timestamps)->value_name("on|off")->default_value("on"), "on: each log line starts with its time (RFC 3339 UTC); off for journald, which stamps lines itself")
        ("access-log", po::value(&s.access_log)->value_name("BOOL")->default_value(false)->implicit_value(true), "log one line per request")
        ("max-body-bytes", unsigned_setting(&s.max_body_bytes)->value_name("BYTES")->default_value(s.max_body_bytes), "largest single request body")
        ("max-upload-bytes", unsigned_setting(&s.max_upload_bytes)->value_name("BYTES")->default_value(s.max_upload_bytes), "largest bulk upload")
        ("max-job-rows", unsigned_setting(&s.max_job_rows)->value_name("ROWS")->default_value(s.max_job_rows), "most rows in one bulk job")
        ("max-header-bytes", unsigned_setting(&s.max_header_bytes)->value_name("BYTES")->default_value(s.max_header_bytes), "largest request header block; chunk extensions and trailers count against it too (at most 65000)")
        ("min-upload-rate", unsigned_setting(&s.min_upload_rate)->value_name("BYTES")->default_value(s.min_upload_rate), "slowest request body accepted, in bytes per second over the rate window; slower gets 408; 0 = off")
        ("upload-rate-window", unsigned_setting(&s.upload_rate_window_seconds)->value_name("SECONDS")->default_value(s.upload_rate_window_seconds), "seconds over which min-upload-rate is averaged")
        ("max-connections", unsigned_setting(&s.max_connections)->value_name("N")->default_value(s.max_connections), "open connections at most; more are answered 503 and closed")
        ("max-uploads-per-key", unsigned_setting(&s.max_uploads_per_key)->value_name("N")->default_value(s.max_uploads_per_key), "bulk uploads one key may send at once; more get 429")
        ("max-exports", unsigned_setting(&s.max_exports)->value_name("N")->default_value(s.max_exports), "exports (GET /v1/users/export, /v1/companies/export) running at once in this daemon; more get 503 too_many_exports")
        ("export-write-timeout", unsigned_setting(&s.export_write_timeout_seconds)->value_name("SECONDS")->default_value(s.export_write_timeout_seconds), "seconds an export's client may take no data before its connection is dropped")
        ("rows-per-minute", po::value(&s.rows_per_minute)->value_name("ROWS")->default_value(s.rows_per_minute), "bulk rows applied per minute per project; 0 = unlimited")
        ("rows-burst", po::value(&s.rows_burst)->value_name("ROWS")->default_value(s.rows_burst), "bulk rows a project may take at once")
        ("max-queued-jobs", unsigned_setting(&s.max_queued_jobs)->value_name("N")->default_value(s.max_queued_jobs), "queued jobs per project before 429")
        ("rate-limit-writes", po::value(&s.rate_limit_writes)->value_name("RATE")->default_value(s.rate_limit_writes), "single-write requests per second per key (burst as large); 0 = off")
        ("rate-limit-bulk", po::value(&s.rate_limit_bulk)->value_name("RATE")->default_value(s.rate_limit_bulk), "bulk submissions per minute per key (burst as large); 0 = off")
        ("rate-limit-reads", po::value(&s.rate_limit_reads)->value_name("RATE")->default_value(s.rate_limit_reads), "read requests per second per key (burst as large); 0 = off")
        ("read-timeout", unsigned_setting(&s.read_timeout_seconds)->value_name("SECONDS")->default_value(s.read_timeout_seconds), "seconds to receive a request")
        ("idle-timeout", unsigned_setting(&s.idle_timeout_seconds)->value_name("SECONDS")->default_value(s.idle_timeout_seconds), "seconds a keep-alive connection may idle")
        ("request-timeout", unsigned_setting(&s.request_timeout_seconds)->value_name("SECONDS")->default_value(s.request_timeout_seconds), "seconds the database gets to answer a request's read or start its write; later gets 503 store_timeout")
        ("shutdown-grace", unsigned_setting(&s.shutdown_grace_seconds)->value_name("SECONDS")->default_value(s.shutdown_grace_seconds), "seconds in-flight requests get on shutdown")
        ("job-lease", unsigned_setting(&s.job_lease_seconds)->value_name("SECONDS")->default_value(s.job_lease_seconds), "seconds a claimed bulk job stays a daemon's without a renewal (renewed every third); a dead daemon's jobs move to another after this")
        ("webhook-retry-base", po::value(&s.webhook_retry_base_seconds)->value_name("SECONDS")->default_value(s.webhook_retry_base_seconds), "seconds bounding the first webhook retry's random delay; the bound doubles per attempt, up to an hour")
        ("webhook-max-attempts", unsigned_setting(&s.webhook_max_attempts)->value_name("N")->default_value(s.webhook_max_attempts), "attempts at a webhook delivery before it is marked failed (15 with the default base: the last up to 6.4 hours, on average 3.2, after the first)")
        ("webhook-timeout", po::value(&s.webhook_timeout_seconds)->value_name("SECONDS")->default_value(s.webhook_timeout_seconds), "seconds one webhook attempt may take: connect, TLS handshake, request and answer")
        ("webhook-ca-file", po::value(&s.webhook_ca_file)->value_name("FILE"), "PEM file of CA certificates trusted for https webhooks besides the system's")
        ("webhook-allow-private", po::value(&s.webhook_allow_private)->value_name("BOOL")->default_value(false)->implicit_value(true), "allow webhooks to loopback, private, link-local and other non-public addresses");
    // clang-format on
    return d;
}

// PROFILED_DATA_DIR -> data-dir, for the options that exist; "" for every other variable.
std::string environment_name_to_option(const po::options_description& known, const std::string& variable)
{
    static constexpr std::string_view prefix = "PROFILED_";
    if (variable.rfind(prefix, 0) != 0)
        return {};
    std::string name = variable.substr(prefix.size());
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) {
        return c == '_' ? '-' : static_cast<char>(std::tolower(c));
    });
    if (name == "config")
        return name;
    return known.find_nothrow(name, false) ? name : std::string();
}

} // namespace

settings_outcome load_server_settings(const std::vector<std::string>& args)
{
    settings_outcome out;
    server_settings& s = out.settings;
    std::string format, level, timestamps;
    po::options_description settings = setting_options(s, format, level, timestamps);

    po::options_description cli("Options");
    cli.add_options()("help,h", "show this help")("config", po::value(&s.config_file)->value_name("FILE"),
                                                  "INI file with the same keys as these flags (key = value)");
    cli.add(settings);

    po::options_description env_options;
    env_options.add_options()("config", po::value<std::string>());
    env_options.add(settings);

    po::variables_map vm;
    try {
        // Earlier stores win: flags, then environment, then the file, then the defaults.
        po::store(po::command_line_parser(args).options(cli).run(), vm);
        if (vm.count("help")) {
            out.show_help = true;
            std::ostringstream help;
            help << "Usage: profiled serve [options]\n\n"
                    "Runs the daemon: the HTTP API on --listen, bulk jobs at --rows-per-minute per project, the data\n"
                    "in --data-dir (or the PostgreSQL --database). SIGTERM stops it cleanly, SIGHUP re-reads the\n"
                    "settings (rate limits and log settings change; others need a restart).\n\n"
                 << cli
                 << "\nEnvironment:\n"
                    "  Every option is also read from PROFILED_ and its name in capitals with _ for -, e.g.\n"
                    "  PROFILED_DATA_DIR for --data-dir, PROFILED_ROWS_PER_MINUTE for --rows-per-minute, and\n"
                    "  PROFILED_CONFIG for --config. A flag beats the environment, which beats the --config file,\n"
                    "  which beats the defaults shown.\n";
            out.help_text = help.str();
            return out;
        }
        po::store(po::parse_environment(env_options,
                                         [&](const std::string& v) { return environment_name_to_option(env_options, v); }),
                  vm);
        if (vm.count("config") && !vm["config"].as<std::string>().empty()) {
            const std::string path = vm["config"].as<std::string>();
            std::ifstream file(path);
            if (!file)
                throw std::runtime_error(fmt::format("cannot read config file {}", path));
            try {
                po::store(po::parse_config_file(file, settings, false), vm);
            } catch (const po::error& e) {
                throw std::runtime_error(fmt::format("config file {}: {}", path, e.what()));
            }
        }
        po::notify(vm);
    } catch (const po::error& e) {
        throw std::runtime_error(e.what());
    }

    if (!parse_log_format(format, s.format))
        throw std::runtime_error(fmt::format("log-format must be logfmt or json, not '{}'", format));
    if (!parse_log_level(level, s.level))
        throw std::runtime_error(fmt::format("log-level must be debug, info, warn or error, not '{}'", level));
    if (timestamps == "on" || timestamps == "true")
        s.log_timestamps = true;
    else if (timestamps == "off" || timestamps == "false")
        s.log_timestamps = false;
    else
        throw std::runtime_error(fmt::format("log-timestamps must be on or off, not '{}'", timestamps));
    if (s.rows_per_minute < 0)
        throw std::runtime_error("rows-per-minute must be 0 (unlimited) or more");
    if (s.rate_limit_writes < 0 || s.rate_limit_bulk < 0 || s.rate_limit_reads < 0)
        throw std::runtime_error("rate-limit-writes, rate-limit-bulk and rate-limit-reads must be 0 (off) or more");
    if (!(s.webhook_retry_base_seconds > 0) || s.webhook_retry_base_seconds > 3600)
        throw std::runtime_error("webhook-retry-base must be more than 0 and at most 3600 seconds");
    if (!(s.webhook_timeout_seconds > 0) || s.webhook_timeout_seconds > 600)
        throw std::runtime_error("webhook-timeout must be more than 0 and at most 600 seconds");
    if (s.webhook_max_attempts == 0 || s.webhook_max_attempts > 100)
        throw std::runtime_error("webhook-max-attempts must be 1 to 100");
    if (!s.webhook_ca_file.empty() && ::access(s.webhook_ca_file.c_str(), R_OK) != 0)
        throw std::runtime_error(fmt::format("webhook-ca-file {} cannot be read", s.webhook_ca_file));
    if (s.rows_burst < 1)
        throw std::runtime_error("rows-burst must be 1 or more");
    // Zero limits would refuse every request, zero timeouts expire every read at once: refuse them up front.
    for (auto [name, value] : {std::pair<const char*, std::uint64_t>{"max-body-bytes", s.max_body_bytes},
                               {"max-upload-bytes", s.max_upload_bytes},
                               {"max-job-rows", s.max_job_rows},
                               {"max-header-bytes", s.max_header_bytes},
                               {"read-timeout", s.read_timeout_seconds},
                               {"upload-rate-window", s.upload_rate_window_seconds},
                               {"max-connections", s.max_connections},
                               {"max-uploads-per-key", s.max_uploads_per_key},
                               {"idle-timeout", s.idle_timeout_seconds},
                               {"max-exports", s.max_exports},
                               {"export-write-timeout", s.export_write_timeout_seconds},
                               {"request-timeout", s.request_timeout_seconds},
                               {"job-lease", s.job_lease_seconds}}) {
        if (value == 0)
            throw std::runtime_error(fmt::format("{} must be 1 or more", name));
    }
    // Beast keeps each header field in 16-bit offsets and throws past them; a header block under 64 KB cannot
    // hold a field that large.
    if (s.max_header_bytes > 65000)
        throw std::runtime_error("max-header-bytes must be 65000 or less");
    if (s.data_dir.empty())
        throw std::runtime_error("data-dir must not be empty");
    check_database_url(s.database);
    return out;
}

std::string default_database_url()
{
    const char* env = std::getenv("PROFILED_DATABASE");
    return env ? env : "";
}

void check_database_url(const std::string& url)
{
    if (!url.empty() && !is_postgres_url(url))
        throw std::runtime_error("database must be a postgresql:// (or postgres://) URL, not " +
                                 redact_database_url(url));
}

std::string default_data_dir()
{
    const char* env = std::getenv("PROFILED_DATA_DIR");
    return env && *env ? env : server_settings{}.data_dir;
}

namespace {

// Whether this process, with its effective ids, may access path as mode (R_OK, W_OK, X_OK) asks: what open() and
// mkdir() will decide, read-only mounts and immutable files included.
bool may_access(const std::filesystem::path& path, int mode)
{
    return ::faccessat(AT_FDCWD, path.c_str(), mode, AT_EACCESS) == 0;
}

} // namespace

std::optional<std::string> database_problem(const std::string& data_dir, database_use use)
{
    namespace fs = std::filesystem;
    fs::path dir(data_dir), db = dir / "profiled.db";
    std::string no_database = fmt::format("no database at {} (wrong --data-dir?)", db.string());
    std::error_code ec;
    auto dir_status = fs::status(dir, ec);
    if (dir_status.type() == fs::file_type::not_found)
        return use == database_use::create ? std::nullopt : std::optional(no_database);
    if (ec)
        return fmt::format("cannot read data directory {}: {}", data_dir, ec.message());
    if (!fs::is_directory(dir_status))
        return fmt::format("data directory {} is not a directory", data_dir);
    auto db_status = fs::status(db, ec);
    if (ec && db_status.type() != fs::file_type::not_found)
        return fmt::format("cannot read data directory {}: {}", data_dir, ec.message());
    if (db_status.type() == fs::file_type::not_found && use != database_use::create)
        return no_database;
    // SQLite creates the database in the directory, and beside it the -wal and -shm files it takes to read or write
    // the database (they go again when the last connection closes).
    bool dir_writable = may_access(dir, W_OK | X_OK);
    bool writes = use != database_use::read;
    if (writes && !dir_writable)
        return fmt::format("data directory {} is not writable by this user (uid {})", data_dir, ::geteuid());
    if (db_status.type() == fs::file_type::not_found)
        return std::nullopt;
    if (!fs::is_regular_file(db_status))
        return fmt::format("{} is not a database file", db.string());
    for (const char* suffix : {"", "-wal", "-shm"}) {
        fs::path file = db.string() + suffix;
        bool present = fs::exists(file, ec);
        if (present && !may_access(file, writes ? R_OK | W_OK : R_OK))
            return fmt::format("{} is not {} by this user (uid {})", file.string(), writes ? "writable" : "readable",
                               ::geteuid());
        if (!present && !dir_writable)
            return fmt::format("{} cannot be read by this user (uid {}) while no daemon has it open: SQLite would "
                               "create {} in data directory {}, which this user may not write",
                               db.string(), ::geteuid(), file.string(), data_dir);
    }
    return std::nullopt;
}

} // namespace profiled
