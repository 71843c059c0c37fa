// `profiled import` and `profiled jobs watch`: the daemon's bulk API from the command line. The only client-side
// user of Beast and Asio, kept in this one file so their headers stay out of every other translation unit.
#include "daemon/cli/import_command.hpp"

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <random>
#include <stdexcept>
#include <thread>

#include <signal.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <boost/program_options.hpp>
#include <boost/url/parse.hpp>
#include <fmt/format.h>

#include "common/ops/progress_format.hpp"
#include "daemon/cli/server_address.hpp"

namespace profiled {
namespace beast = boost::beast;
namespace fs = std::filesystem;
namespace http = beast::http;
namespace json = boost::json;
namespace net = boost::asio;
namespace po = boost::program_options;
using tcp = net::ip::tcp;
using steady = std::chrono::steady_clock;

namespace {

// Bytes read from the file and written to the socket at a time: memory stays flat whatever the file's size.
constexpr std::size_t upload_chunk_bytes = 64 * 1024;
// Answers are small JSON objects; anything bigger is not the daemon talking.
constexpr std::uint64_t max_answer_bytes = 1 << 20;
// How often a plain progress line is printed when stdout is a file or a pipe.
constexpr double plain_report_seconds = 5.0;
// How long the daemon may stay unreachable while following a job (a restart takes far less).
constexpr double max_unreachable_seconds = 30.0;
// Row errors printed at the end; the rest are a request away.
constexpr int shown_row_errors = 10;

// A failure to report on stderr; the command exits 1.
struct import_failure : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// The request never got an answer (connection refused, reset, unresolvable host): worth retrying while polling.
struct network_failure : import_failure {
    using import_failure::import_failure;
};

// A bulk upload's body: preamble and epilogue in memory around the file, which is streamed from disk.
struct upload_body {
    std::string content_type;
    std::string preamble;
    fs::path file;
    std::uint64_t file_size = 0;
    std::string epilogue;

    // The exact Content-Length: known before a byte of the file is read.
    std::uint64_t size() const { return preamble.size() + file_size + epilogue.size(); }
};

// One HTTP response as the command needs it.
struct http_answer {
    int status = 0;
    std::string body;
};

// The job fields the command follows.
struct job_state {
    std::string job_id;
    std::string status;
    std::int64_t total_rows = 0;
    std::int64_t processed_rows = 0;
    std::int64_t failed_rows = 0;
    std::optional<std::string> error;

    bool finished() const { return status == "done" || status == "failed"; }
};

// The command's own usage errors (bad flags, bad URL): exit 2, like the other subcommands.
using usage_error = cli_usage_error;

// The file name as a quoted multipart parameter value: backslash-escaped as curl and our parser do it.
std::string quoted_filename(const std::string& name)
{
    std::string out = "\"";
    for (char c : name) {
        if (c == '"' || c == '\\')
            out += '\\';
        // A line break would end the part header early.
        out += (c == '\r' || c == '\n') ? ' ' : c;
    }
    return out + '"';
}

// A boundary no NDJSON row will contain by chance.
std::string random_boundary()
{
    std::random_device random;
    std::uniform_int_distribution<int> hex_digit(0, 15);
    std::string boundary = "profiled-import-";
    for (int i = 0; i < 32; ++i)
        boundary += "0123456789abcdef"[hex_digit(random)];
    return boundary;
}

// True when the file is one JSON document ({"users": [...]}) rather than NDJSON rows; both start with '{',
// so the document is recognised by its first key, and otherwise by a .json name.
bool is_json_document(const fs::path& file, const std::string& type)
{
    std::string extension = file.extension().string();
    std::transform(extension.begin(), extension.end(), extension.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (extension == ".ndjson" || extension == ".jsonl")
        return false;
    std::ifstream in(file, std::ios::binary);
    std::string head(4096, '\0');
    in.read(head.data(), static_cast<std::streamsize>(head.size()));
    head.resize(static_cast<std::size_t>(in.gcount()));
    auto not_space = [&](std::size_t from) { return head.find_first_not_of(" \t\r\n", from); };
    std::size_t brace = not_space(head.rfind("\xEF\xBB\xBF", 0) == 0 ? 3 : 0);
    if (brace != std::string::npos && head[brace] == '{') {
        std::size_t key = not_space(brace + 1);
        if (key != std::string::npos && head.compare(key, type.size() + 2, "\"" + type + "\"") == 0)
            return true;
    }
    return extension == ".json";
}

// How FILE goes over the wire: a JSON document as it is, NDJSON as the `file` part of a multipart form.
upload_body make_upload_body(const fs::path& file, const std::string& type)
{
    std::error_code ec;
    auto status = fs::status(file, ec);
    if (ec || !fs::exists(status))
        throw import_failure(fmt::format("{}: no such file", file.string()));
    if (!fs::is_regular_file(status))
        throw import_failure(fmt::format("{}: not a regular file", file.string()));
    if (::access(file.c_str(), R_OK) != 0)
        throw import_failure(fmt::format("{}: cannot be read", file.string()));
    upload_body body;
    body.file = file;
    body.file_size = fs::file_size(file);
    if (body.file_size == 0)
        throw import_failure(fmt::format("{}: the file is empty, there is nothing to import", file.string()));
    if (is_json_document(file, type)) {
        body.content_type = "application/json";
        return body;
    }
    std::string boundary = random_boundary();
    body.content_type = "multipart/form-data; boundary=" + boundary;
    body.preamble = fmt::format("--{}\r\nContent-Disposition: form-data; name=\"file\"; filename={}\r\n"
                                "Content-Type: application/x-ndjson\r\n\r\n",
                                boundary, quoted_filename(file.filename().string()));
    body.epilogue = fmt::format("\r\n--{}--\r\n", boundary);
    return body;
}

// The server's own words from the common error body, with the status; the raw body when it is not one.
std::string describe_error(const http_answer& answer) { return describe_error_body(answer.status, answer.body); }

// A whole number from a job object, 0 when absent.
std::int64_t int64_field(const json::object& object, const char* name)
{
    const json::value* v = object.if_contains(name);
    if (!v)
        return 0;
    if (v->is_int64())
        return v->as_int64();
    if (v->is_uint64())
        return static_cast<std::int64_t>(v->as_uint64());
    if (v->is_double())
        return static_cast<std::int64_t>(v->as_double());
    return 0;
}

// The job object of a 200/202 answer.
job_state parse_job(const std::string& body)
{
    boost::system::error_code ec;
    json::value parsed = json::parse(body, ec);
    const json::object* object = !ec ? parsed.if_object() : nullptr;
    const json::value* id = object ? object->if_contains("job_id") : nullptr;
    const json::value* status = object ? object->if_contains("status") : nullptr;
    if (!id || !id->is_string() || !status || !status->is_string())
        throw import_failure("the server's answer is not a job object: " + body.substr(0, 200));
    job_state job;
    job.job_id = std::string(id->as_string());
    job.status = std::string(status->as_string());
    job.total_rows = int64_field(*object, "total_rows");
    job.processed_rows = int64_field(*object, "processed_rows");
    job.failed_rows = int64_field(*object, "failed_rows");
    if (const json::value* error = object->if_contains("error"); error && error->is_string())
        job.error = std::string(error->as_string());
    return job;
}

// A blocking HTTP/1.1 client for the daemon's API: one connection per request, so a daemon restart between
// polls costs nothing, authenticated with the project's key.
class api_client {
public:
    api_client(server_address address, std::string key) : address_(std::move(address)), key_(std::move(key)) {}

    // GET target (a path under the URL's base path).
    http_answer get(const std::string& target)
    {
        tcp::socket socket = connect();
        http::request<http::empty_body> req{http::verb::get, address_.base_path + target, 11};
        set_common_fields(req);
        beast::error_code ec;
        http::write(socket, req, ec);
        if (ec)
            throw network_failure(fmt::format("cannot send a request to {}: {}", where(), ec.message()));
        return read_answer(socket);
    }

    // POST target with the upload body, the file streamed from disk behind a header with its exact length.
    http_answer post_upload(const std::string& target, const upload_body& body, const std::string& idempotency_key)
    {
        tcp::socket socket = connect();
        http::request<http::empty_body> req{http::verb::post, address_.base_path + target, 11};
        set_common_fields(req);
        req.set(http::field::content_type, body.content_type);
        req.content_length(body.size());
        if (!idempotency_key.empty())
            req.set("Idempotency-Key", idempotency_key);
        http::request_serializer<http::empty_body> header{req};
        beast::error_code ec;
        http::write_header(socket, header, ec);
        if (!ec)
            ec = send_body(socket, body);
        if (ec) {
            // The daemon refuses some uploads (a bad key, a limit) before reading them whole and then closes;
            // its answer, already sent, says why, and is worth more than "connection reset".
            try {
                return read_answer(socket);
            } catch (const network_failure&) {
                throw network_failure(fmt::format("the upload to {} broke off: {}", where(), ec.message()));
            }
        }
        return read_answer(socket);
    }

    // host:port for messages.
    std::string where() const { return address_.host_header; }

private:
    // A connected socket to the daemon.
    tcp::socket connect()
    {
        beast::error_code ec;
        tcp::resolver resolver(io_);
        auto endpoints = resolver.resolve(address_.host, address_.port, ec);
        if (ec)
            throw network_failure(fmt::format("cannot resolve {}: {}", address_.host, ec.message()));
        tcp::socket socket(io_);
        net::connect(socket, endpoints, ec);
        if (ec)
            throw network_failure(fmt::format("cannot connect to {}: {}", where(), ec.message()));
        return socket;
    }

    // Headers every request carries.
    void set_common_fields(http::request<http::empty_body>& req) const
    {
        req.set(http::field::host, address_.host_header);
        req.set(http::field::user_agent, "profiled-import/" PROFILED_VERSION);
        req.set(http::field::accept, "application/json");
        req.set(http::field::authorization, "Token " + key_);
    }

    // The preamble, the file in chunks, the epilogue; a network error is returned, a file problem thrown.
    beast::error_code send_body(tcp::socket& socket, const upload_body& body)
    {
        beast::error_code ec;
        net::write(socket, net::buffer(body.preamble), ec);
        if (ec)
            return ec;
        std::ifstream in(body.file, std::ios::binary);
        if (!in)
            throw import_failure(fmt::format("{}: cannot be opened", body.file.string()));
        std::vector<char> chunk(upload_chunk_bytes);
        std::uint64_t sent = 0;
        while (sent < body.file_size) {
            auto want = static_cast<std::streamsize>(std::min<std::uint64_t>(chunk.size(), body.file_size - sent));
            in.read(chunk.data(), want);
            auto got = in.gcount();
            // Content-Length is already on the wire; a shorter body makes the daemon drop the whole upload.
            if (got <= 0)
                throw import_failure(fmt::format("{} shrank while it was being uploaded; nothing was imported",
                                                 body.file.string()));
            net::write(socket, net::buffer(chunk.data(), static_cast<std::size_t>(got)), ec);
            if (ec)
                return ec;
            sent += static_cast<std::uint64_t>(got);
        }
        net::write(socket, net::buffer(body.epilogue), ec);
        return ec;
    }

    // Reads one response with a bounded body.
    http_answer read_answer(tcp::socket& socket)
    {
        beast::flat_buffer buffer;
        http::response_parser<http::string_body> parser;
        parser.body_limit(max_answer_bytes);
        beast::error_code ec;
        http::read(socket, buffer, parser, ec);
        if (ec)
            throw network_failure(fmt::format("no answer from {}: {}", where(), ec.message()));
        socket.shutdown(tcp::socket::shutdown_both, ec);
        return {static_cast<int>(parser.get().result_int()), std::move(parser.get().body())};
    }

    net::io_context io_;
    server_address address_;
    std::string key_;
};

// Seconds since start.
double seconds_since(steady::time_point start)
{
    return std::chrono::duration<double>(steady::now() - start).count();
}

// The terminal's width, 80 when it cannot be told.
int terminal_columns()
{
    winsize size{};
    if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0)
        return size.ws_col;
    return 80;
}

// Polls the job until it ends, showing progress: a bar redrawn in place on a terminal, a line every few seconds
// otherwise. Rides out a daemon that is briefly unreachable (a restart resumes the job where it was).
job_state follow_job(api_client& client, job_state job, double poll_interval, steady::time_point started)
{
    const bool terminal = ::isatty(STDOUT_FILENO) == 1;
    const std::string target = "/v1/background_jobs/" + job.job_id;
    rate_estimator rates;
    std::optional<double> last_plain_line;
    std::optional<double> unreachable_since;
    for (;;) {
        double now = seconds_since(started);
        // Queued time is not processing time: the rate starts with the first rows.
        if (job.status != "queued")
            rates.add(now, job.processed_rows);
        progress_snapshot progress{job.status, job.processed_rows, job.total_rows, rates.rows_per_second()};
        if (terminal) {
            // \x1b[K clears what a longer previous line left behind.
            std::cout << '\r' << progress_bar_line(progress, terminal_columns()) << "\x1b[K"
                      << (job.finished() ? "\n" : "") << std::flush;
        } else if (!job.finished() && (!last_plain_line || now - *last_plain_line >= plain_report_seconds)) {
            std::cout << progress_plain_line(progress) << std::endl;
            last_plain_line = now;
        }
        if (job.finished())
            return job;
        std::this_thread::sleep_for(std::chrono::duration<double>(poll_interval));
        try {
            http_answer answer = client.get(target);
            if (answer.status != 200)
                throw import_failure(fmt::format("cannot follow job {}: {}", job.job_id, describe_error(answer)));
            job = parse_job(answer.body);
            unreachable_since.reset();
        } catch (const network_failure& e) {
            if (!unreachable_since) {
                unreachable_since = now;
                std::cerr << (terminal ? "\n" : "") << "profiled import: " << e.what() << "; retrying for up to "
                          << max_unreachable_seconds << "s\n";
            } else if (now - *unreachable_since > max_unreachable_seconds) {
                throw import_failure(fmt::format("{}; gave up following job {} (it may still finish: "
                                                 "GET /v1/background_jobs/{})",
                                                 e.what(), job.job_id, job.job_id));
            }
        }
    }
}

// Prints the job's first row errors; a failure to fetch them is reported but does not change the outcome.
void print_row_errors(api_client& client, const job_state& job, const std::string& type)
{
    try {
        http_answer answer =
            client.get(fmt::format("/v1/background_jobs/{}/errors?limit={}", job.job_id, shown_row_errors));
        if (answer.status != 200)
            throw import_failure(describe_error(answer));
        json::value parsed = json::parse(answer.body);
        const json::array& errors = parsed.at("errors").as_array();
        std::cout << fmt::format("{} row{} failed; {}:\n", job.failed_rows, job.failed_rows == 1 ? "" : "s",
                                 static_cast<std::int64_t>(errors.size()) < job.failed_rows
                                     ? fmt::format("the first {}", errors.size())
                                     : std::string(job.failed_rows == 1 ? "it is" : "they are"));
        // The errors endpoint calls the row's id user_id whatever the job's type.
        const char* id_name = type == "companies" ? "company_id" : "user_id";
        for (const json::value& e : errors) {
            const json::object& row = e.as_object();
            auto text = [&](const char* name) {
                const json::value* v = row.if_contains(name);
                return v && v->is_string() ? std::string(v->as_string()) : std::string();
            };
            std::string id = text("user_id"), field = text("field");
            std::cout << fmt::format("  line {}: {}{}{}\n", int64_field(row, "line"),
                                     id.empty() ? "" : fmt::format("{} {}, ", id_name, id),
                                     field.empty() ? "" : fmt::format("field {}: ", field), text("message"));
        }
        if (static_cast<std::int64_t>(errors.size()) < job.failed_rows)
            std::cout << fmt::format("  (all of them: GET /v1/background_jobs/{}/errors)\n", job.job_id);
    } catch (const std::exception& e) {
        std::cout.flush();
        std::cerr << "profiled import: cannot list the failed rows of job " << job.job_id << ": " << e.what() << "\n";
    }
}

// What the Ctrl-C handler writes before the command exits: the job goes on, and how to follow it. Filled in
// once a job exists; empty before (an upload cut short makes no job).
char interrupt_message[1024];
volatile std::sig_atomic_t interrupt_message_length = 0;

// SIGINT/SIGTERM while a job is followed: says it goes on in the daemon, then exits 130 as a shell expects.
void on_interrupt(int signal_number)
{
    if (interrupt_message_length > 0) {
        ssize_t ignored = ::write(STDERR_FILENO, interrupt_message, static_cast<std::size_t>(interrupt_message_length));
        (void)ignored;
    }
    ::_exit(128 + signal_number);
}

// From now on an interruption tells the user the job goes on and how to follow it with `profiled jobs watch`.
void explain_interruption_for(const std::string& job_id, const std::string& url)
{
    interrupt_message_length = 0;
    std::string text = fmt::format("\nprofiled: interrupted; job {} goes on in the daemon. Follow it with:\n"
                                   "  profiled jobs watch {} --url {}\n"
                                   "(and --key KEY, unless PROFILED_API_KEY is set)\n",
                                   job_id, job_id, url);
    std::size_t n = std::min(text.size(), sizeof interrupt_message);
    std::memcpy(interrupt_message, text.data(), n);
    interrupt_message_length = static_cast<std::sig_atomic_t>(n);
    struct sigaction action {};
    action.sa_handler = on_interrupt;
    sigemptyset(&action.sa_mask);
    ::sigaction(SIGINT, &action, nullptr);
    ::sigaction(SIGTERM, &action, nullptr);
}

// Rows looked at to tell users from companies.
constexpr int type_sample_rows = 20;

// What the first rows of FILE look like they hold ("users", "companies"), or "" when they do not tell: a JSON
// document by its first key, NDJSON rows by user_id (users) or company_id without user_id (companies).
std::string apparent_type(const fs::path& file)
{
    std::ifstream in(file, std::ios::binary);
    std::string line;
    int users = 0, companies = 0;
    for (int i = 0; i < type_sample_rows && std::getline(in, line); ++i) {
        boost::system::error_code ec;
        json::value row = json::parse(line, ec);
        if (ec || !row.is_object()) {
            // Not NDJSON: a JSON document tells by its first key.
            std::size_t brace = line.find('{');
            std::size_t users_at = line.find("\"users\""), companies_at = line.find("\"companies\"");
            if (i == 0 && brace != std::string::npos &&
                (users_at != std::string::npos || companies_at != std::string::npos))
                return users_at < companies_at ? "users" : "companies";
            continue;
        }
        const json::object& o = row.as_object();
        if (o.contains("users"))
            return "users";
        if (o.contains("companies"))
            return "companies";
        if (o.contains("user_id"))
            ++users;
        else if (o.contains("company_id"))
            ++companies;
    }
    if (users > 0 && companies == 0)
        return "users";
    if (companies > 0 && users == 0)
        return "companies";
    return "";
}

// Options both `import` and `jobs watch` take: where the daemon is, the key, and the polling pace.
struct daemon_connection {
    std::string url;
    std::string key;
    double poll_interval = 1.0;
};

// Adds --url, --key and --poll-interval, their defaults from PROFILED_URL and PROFILED_API_KEY.
void add_connection_options(po::options_description& opts, daemon_connection& c)
{
    const char* url_from_env = std::getenv("PROFILED_URL");
    const char* key_from_env = std::getenv("PROFILED_API_KEY");
    c.url = url_from_env ? url_from_env : "";
    c.key = key_from_env ? key_from_env : "";
    opts.add_options()("url", po::value(&c.url)->value_name("URL"),
                       "the daemon's address, http://HOST:PORT ($PROFILED_URL when set)")(
        "key", po::value(&c.key)->value_name("KEY"), "a secret API key of the project ($PROFILED_API_KEY when set)")(
        "poll-interval", po::value(&c.poll_interval)->value_name("SECONDS")->default_value(c.poll_interval),
        "seconds between job status requests");
}

// The daemon's address from the options; throws usage_error when one is missing or wrong.
server_address checked_connection(const daemon_connection& c)
{
    if (c.url.empty())
        throw usage_error("--url is required (or set PROFILED_URL): the daemon's address, http://HOST:PORT");
    if (c.key.empty())
        throw usage_error("--key is required (or set PROFILED_API_KEY): a secret API key of the project");
    if (!(c.poll_interval >= 0.01 && c.poll_interval <= 3600))
        throw usage_error("--poll-interval must be between 0.01 and 3600 seconds");
    return parse_server_url(c.url);
}

// What importing one file came to.
enum class import_outcome { done, too_many_failed, failed };

// Uploads one file and follows its job to the end.
import_outcome import_one(api_client& client, const std::string& file, const std::string& type,
                          const std::string& idempotency_key, const daemon_connection& c,
                          std::optional<double> max_failed_ratio)
{
    auto started = steady::now();
    std::string apparent = apparent_type(file);
    if (!apparent.empty() && apparent != type)
        std::cerr << fmt::format("profiled import: warning: the first rows of {} look like {}, but --type is {}; "
                                 "importing them as {}\n",
                                 file, apparent, type, type);
    upload_body body = make_upload_body(file, type);
    http_answer answer = client.post_upload("/v1/" + type + "/bulk_identify", body, idempotency_key);
    if (answer.status != 202 && answer.status != 200) {
        std::cerr << "profiled import: the server refused the upload of " << file << ": " << describe_error(answer)
                  << "\n";
        return import_outcome::failed;
    }
    job_state job = parse_job(answer.body);
    explain_interruption_for(job.job_id, c.url);
    // 200 instead of 202: the Idempotency-Key matched an earlier upload, whose job is followed instead.
    if (answer.status == 200)
        std::cout << fmt::format("{} was already uploaded with Idempotency-Key {}: following job {}\n", file,
                                 idempotency_key, job.job_id);
    else
        std::cout << fmt::format("uploaded {} ({} bytes, {} rows of {}) as job {}\n", file, body.file_size,
                                 job.total_rows, type, job.job_id);
    std::cout.flush();

    job = follow_job(client, std::move(job), c.poll_interval, started);
    std::cout << import_summary_line(job.status, job.processed_rows, job.failed_rows, seconds_since(started)) << "\n";
    if (job.failed_rows > 0)
        print_row_errors(client, job, type);
    std::cout.flush();
    if (job.status == "failed") {
        std::cerr << "profiled import: job " << job.job_id << " failed: " << job.error.value_or("no reason given")
                  << "\n";
        return import_outcome::failed;
    }
    double ratio = job.total_rows > 0 ? static_cast<double>(job.failed_rows) / static_cast<double>(job.total_rows) : 0;
    if (max_failed_ratio && ratio > *max_failed_ratio) {
        std::cerr << fmt::format("profiled import: job {}: {} of {} rows failed ({:.3g}), more than --max-failed-ratio "
                                 "{:g}\n",
                                 job.job_id, job.failed_rows, job.total_rows, ratio, *max_failed_ratio);
        return import_outcome::too_many_failed;
    }
    return import_outcome::done;
}

} // namespace

int run_import_command(const std::vector<std::string>& args)
{
    std::vector<std::string> files;
    std::string type = "users", idempotency_key;
    double max_failed_ratio = -1;
    daemon_connection c;

    po::options_description opts("Options");
    opts.add_options()("help,h", "show this help");
    add_connection_options(opts, c);
    opts.add_options()("type", po::value(&type)->value_name("TYPE")->default_value(type),
                       "what the files hold: users or companies (a warning when their first rows look otherwise)")(
        "max-failed-ratio", po::value(&max_failed_ratio)->value_name("RATIO"),
        "exit 1 when more than this share (0 to 1) of a job's rows failed validation; default: any share")(
        "idempotency-key", po::value(&idempotency_key)->value_name("KEY"),
        "sent as Idempotency-Key (one FILE only): the same key within 24 hours follows the first job instead of "
        "importing again");
    po::options_description hidden;
    hidden.add_options()("file", po::value(&files));
    po::options_description all;
    all.add(opts).add(hidden);
    po::positional_options_description positional;
    positional.add("file", -1);

    po::variables_map vm;
    try {
        po::store(po::command_line_parser(args).options(all).positional(positional).run(), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        std::cerr << "profiled import: " << e.what() << "\n";
        return 2;
    }
    if (vm.count("help")) {
        std::cout << "Usage: profiled import FILE... --url URL --key KEY [options]\n\n"
                     "Uploads each FILE to a running daemon's bulk identify endpoint, one job per file, and follows\n"
                     "each job until it ends: a progress bar on a terminal, a line every few seconds otherwise.\n"
                     "A FILE holds NDJSON rows (one JSON object per line) or one {\"users\": [...]} /\n"
                     "{\"companies\": [...]} JSON document. Ctrl-C stops following; the job goes on in the daemon\n"
                     "and `profiled jobs watch JOB_ID` follows it again.\n"
                     "Exits 0 when every job ends done (rows that failed validation are listed), 1 when a job fails,\n"
                     "an upload is refused or more rows failed than --max-failed-ratio allows, 2 on a usage error.\n\n"
                  << opts
                  << "\nEnvironment:\n"
                     "  PROFILED_URL      default of --url\n"
                     "  PROFILED_API_KEY  default of --key\n";
        return 0;
    }
    std::optional<server_address> address;
    try {
        if (files.empty())
            throw usage_error("give the FILE to import (profiled import --help)");
        if (type != "users" && type != "companies")
            throw usage_error("--type must be users or companies");
        if (vm.count("max-failed-ratio") && !(max_failed_ratio >= 0 && max_failed_ratio <= 1))
            throw usage_error("--max-failed-ratio must be between 0 and 1");
        if (!idempotency_key.empty() && files.size() > 1)
            throw usage_error("--idempotency-key names one upload: give one FILE with it");
        address = checked_connection(c);
    } catch (const usage_error& e) {
        std::cerr << "profiled import: " << e.what() << "\n";
        return 2;
    }
    std::optional<double> ratio_limit;
    if (vm.count("max-failed-ratio"))
        ratio_limit = max_failed_ratio;

    int failed = 0;
    for (const auto& file : files) {
        try {
            api_client client(*address, c.key);
            if (import_one(client, file, type, idempotency_key, c, ratio_limit) != import_outcome::done)
                ++failed;
        } catch (const std::exception& e) {
            std::cout.flush();
            std::cerr << "profiled import: " << e.what() << "\n";
            ++failed;
        }
    }
    if (files.size() > 1)
        std::cout << fmt::format("{} of {} files imported\n", files.size() - static_cast<std::size_t>(failed),
                                 files.size());
    return failed > 0 ? 1 : 0;
}

int run_jobs_watch_command(const std::vector<std::string>& args)
{
    std::string job_id;
    daemon_connection c;
    po::options_description opts("Options");
    opts.add_options()("help,h", "show this help");
    add_connection_options(opts, c);
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
        std::cerr << "profiled jobs watch: " << e.what() << "\n";
        return 2;
    }
    if (vm.count("help")) {
        std::cout << "Usage: profiled jobs watch JOB_ID --url URL --key KEY [options]\n\n"
                     "Follows a bulk job of the key's project through a running daemon until it ends, as\n"
                     "`profiled import` does after an upload: a progress bar on a terminal, a line every few\n"
                     "seconds otherwise; then the failed rows. Exits 0 when the job ends done, 1 when it fails\n"
                     "or cannot be followed, 2 on a usage error.\n\n"
                  << opts
                  << "\nEnvironment:\n"
                     "  PROFILED_URL      default of --url\n"
                     "  PROFILED_API_KEY  default of --key\n";
        return 0;
    }
    std::optional<server_address> address;
    try {
        if (job_id.empty())
            throw usage_error("give the JOB_ID to watch (profiled jobs list shows them)");
        address = checked_connection(c);
    } catch (const usage_error& e) {
        std::cerr << "profiled jobs watch: " << e.what() << "\n";
        return 2;
    }
    try {
        auto started = steady::now();
        api_client client(*address, c.key);
        http_answer answer = client.get("/v1/background_jobs/" + job_id);
        if (answer.status != 200) {
            std::cerr << "profiled jobs watch: cannot follow job " << job_id << ": " << describe_error(answer) << "\n";
            return 1;
        }
        job_state job = parse_job(answer.body);
        std::string type = "users";
        if (auto parsed = json::parse(answer.body); parsed.is_object())
            if (const json::value* t = parsed.as_object().if_contains("type"); t && t->is_string())
                type = std::string(t->as_string());
        explain_interruption_for(job.job_id, c.url);
        job = follow_job(client, std::move(job), c.poll_interval, started);
        std::cout << import_summary_line(job.status, job.processed_rows, job.failed_rows, seconds_since(started))
                  << "\n";
        if (job.failed_rows > 0)
            print_row_errors(client, job, type);
        std::cout.flush();
        if (job.status == "failed") {
            std::cerr << "profiled jobs watch: job " << job.job_id
                      << " failed: " << job.error.value_or("no reason given") << "\n";
            return 1;
        }
        return 0;
    } catch (const std::exception& e) {
        std::cout.flush();
        std::cerr << "profiled jobs watch: " << e.what() << "\n";
        return 1;
    }
}

} // namespace profiled
