// `profiled export`: GET /v1/users/export (or companies) to stdout, checking that the stream arrived whole.
#include "daemon/cli/export_command.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>

#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/program_options.hpp>
#include <fmt/format.h>

#include "common/ops/progress_format.hpp"
#include "daemon/cli/server_address.hpp"

namespace profiled {
namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace po = boost::program_options;
using tcp = net::ip::tcp;
using steady = std::chrono::steady_clock;

namespace {

// Bytes taken from the socket at a time: memory stays flat whatever the export's size.
constexpr std::size_t read_piece_bytes = 64 * 1024;
// An error answer is a small JSON object; more is not the daemon talking.
constexpr std::size_t max_error_bytes = 1 << 20;
// How often the progress is redrawn on a terminal, and printed as a line otherwise.
constexpr double terminal_report_seconds = 0.25;
constexpr double plain_report_seconds = 5.0;
// The trailer a complete export ends with (daemon/api/export_stream.hpp).
constexpr const char* rows_trailer = "X-Profiled-Export-Rows";

// A failure to report on stderr; the command exits 1.
struct export_failure : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// What the command was asked for.
struct export_request {
    server_address address;
    std::string key;
    std::string type = "users";
    std::optional<std::string> updated_since;
};

// The request target: the export path under the URL's base path, with updated_since percent-encoded (every byte
// but the unreserved ones and ':', so that a '+' of a UTC offset is not read as a space).
std::string export_target(const export_request& request)
{
    std::string target = request.address.base_path + "/v1/" + request.type + "/export";
    if (!request.updated_since)
        return target;
    target += "?updated_since=";
    for (unsigned char c : *request.updated_since) {
        if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == ':')
            target += static_cast<char>(c);
        else
            target += fmt::format("%{:02X}", c);
    }
    return target;
}

// The progress on stderr: redrawn in place on a terminal, a line every few seconds otherwise.
class progress_report {
public:
    explicit progress_report(std::string type) : type_(std::move(type)), terminal_(::isatty(STDERR_FILENO) == 1) {}

    // Counts rows more rows and reports when it is time.
    void add(std::uint64_t rows)
    {
        rows_ += rows;
        double now = seconds();
        if (now - last_report_ < (terminal_ ? terminal_report_seconds : plain_report_seconds))
            return;
        last_report_ = now;
        std::string line = fmt::format("exporting {}: {} rows, {}", type_, rows_, format_rate(rate(now)));
        if (terminal_)
            std::cerr << "\r" << line << "\x1b[K" << std::flush;
        else
            std::cerr << line << "\n" << std::flush;
    }
    // Ends the in-place line before a final message.
    void end_line()
    {
        if (terminal_ && last_report_ > 0)
            std::cerr << "\r\x1b[K" << std::flush;
    }
    std::uint64_t rows() const { return rows_; }
    double seconds() const { return std::chrono::duration<double>(steady::now() - started_).count(); }
    std::optional<double> rate(double at) const
    {
        return at > 0 ? std::optional<double>(static_cast<double>(rows_) / at) : std::nullopt;
    }

private:
    std::string type_;
    bool terminal_;
    std::uint64_t rows_ = 0;
    double last_report_ = 0;
    steady::time_point started_ = steady::now();
};

// Writes bytes to stdout; throws when stdout cannot take them (disk full, closed pipe).
void write_out(const char* data, std::size_t size)
{
    if (size > 0 && std::fwrite(data, 1, size, stdout) != size)
        throw export_failure("cannot write to stdout (disk full or pipe closed); the export is incomplete");
}

// Runs the export: the body to stdout as it arrives; returns the rows written, once the stream ended whole with
// the row count in its trailer matching the lines received.
std::uint64_t run_export(const export_request& request)
{
    net::io_context io;
    tcp::resolver resolver(io);
    beast::error_code ec;
    auto endpoints = resolver.resolve(request.address.host, request.address.port, ec);
    if (ec)
        throw export_failure(fmt::format("cannot resolve {}: {}", request.address.host, ec.message()));
    tcp::socket socket(io);
    net::connect(socket, endpoints, ec);
    const std::string& where = request.address.host_header;
    if (ec)
        throw export_failure(fmt::format("cannot connect to {}: {}", where, ec.message()));

    http::request<http::empty_body> req{http::verb::get, export_target(request), 11};
    req.set(http::field::host, where);
    req.set(http::field::user_agent, "profiled-export/" PROFILED_VERSION);
    req.set(http::field::accept, "application/x-ndjson");
    req.set(http::field::authorization, "Token " + request.key);
    req.set(http::field::te, "trailers");
    req.keep_alive(false);
    http::write(socket, req, ec);
    if (ec)
        throw export_failure(fmt::format("cannot send the request to {}: {}", where, ec.message()));

    beast::flat_buffer buffer;
    http::response_parser<http::buffer_body> parser;
    parser.body_limit(boost::none);
    http::read_header(socket, buffer, parser, ec);
    if (ec)
        throw export_failure(fmt::format("no answer from {}: {}", where, ec.message()));
    const int status = static_cast<int>(parser.get().result_int());

    std::string error_body;
    progress_report progress(request.type);
    std::vector<char> piece(read_piece_bytes);
    while (!parser.is_done()) {
        parser.get().body().data = piece.data();
        parser.get().body().size = piece.size();
        http::read(socket, buffer, parser, ec);
        if (ec == http::error::need_buffer)
            ec = {};
        std::size_t got = piece.size() - parser.get().body().size;
        if (status != 200) {
            error_body.append(piece.data(),
                              std::min(got, max_error_bytes - std::min(max_error_bytes, error_body.size())));
        } else {
            write_out(piece.data(), got);
            progress.add(static_cast<std::uint64_t>(std::count(piece.data(), piece.data() + got, '\n')));
        }
        if (ec) {
            progress.end_line();
            if (status != 200)
                break;
            throw export_failure(fmt::format(
                "the export from {} was cut after {} rows ({}): the output is incomplete", where, progress.rows(),
                ec == http::error::partial_message ? "the connection closed before the stream's end" : ec.message()));
        }
    }
    progress.end_line();
    if (status != 200)
        throw export_failure(fmt::format("the server refused the export: {}", describe_error_body(status, error_body)));
    if (std::fflush(stdout) != 0)
        throw export_failure("cannot write to stdout (disk full or pipe closed); the export is incomplete");
    auto announced = parser.get()[rows_trailer];
    if (announced.empty())
        throw export_failure(fmt::format("the export from {} ended without its {} trailer after {} rows: the output "
                                         "may be incomplete",
                                         where, rows_trailer, progress.rows()));
    if (announced != std::to_string(progress.rows()))
        throw export_failure(fmt::format("the export from {} announced {} rows but {} arrived: the output is "
                                         "incomplete",
                                         where, std::string(announced), progress.rows()));
    double seconds = progress.seconds();
    std::cerr << fmt::format("exported {} {} in {} ({})\n", progress.rows(), request.type, format_duration(seconds),
                             format_rate(progress.rate(seconds)));
    return progress.rows();
}

} // namespace

int run_export_command(const std::vector<std::string>& args)
{
    std::string url, updated_since;
    const char* url_from_env = std::getenv("PROFILED_URL");
    if (url_from_env)
        url = url_from_env;
    const char* key_from_env = std::getenv("PROFILED_API_KEY");
    export_request request;
    request.key = key_from_env ? key_from_env : "";

    po::options_description opts(
        "Usage: profiled export --url URL --key KEY [options] > FILE\n\n"
        "Streams every user (or company) of the key's project from a running daemon to stdout, one JSON\n"
        "object per line as GET /v1/users/{id} shows it, all from one consistent snapshot. Progress goes\n"
        "to stderr. Exits 0 when the export arrived whole (its row count trailer matches the lines\n"
        "received), 1 when it was refused or cut short (the output is then incomplete), 2 on a usage error.\n\n"
        "Options");
    opts.add_options()("help,h", "show this help")("url", po::value(&url),
                                                   "the daemon's address: http://HOST:PORT (default $PROFILED_URL)")(
        "key", po::value(&request.key), "a secret API key of the project to export (default $PROFILED_API_KEY)")(
        "type", po::value(&request.type)->default_value(request.type), "what to export: users or companies")(
        "updated-since", po::value(&updated_since),
        "only profiles updated at or after this RFC 3339 time, such as 2025-02-02T12:34:56Z");
    po::variables_map vm;
    try {
        po::store(po::command_line_parser(args).options(opts).run(), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        std::cerr << "profiled export: " << e.what() << "\n";
        return 2;
    }
    if (vm.count("help")) {
        std::cout << opts;
        return 0;
    }
    try {
        if (url.empty())
            throw cli_usage_error("--url is required (or set PROFILED_URL): the daemon's address, http://HOST:PORT");
        if (request.key.empty())
            throw cli_usage_error("--key is required (or set PROFILED_API_KEY): a secret API key of the project");
        if (request.type != "users" && request.type != "companies")
            throw cli_usage_error("--type must be users or companies");
        if (vm.count("updated-since"))
            request.updated_since = updated_since;
        request.address = parse_server_url(url);
    } catch (const cli_usage_error& e) {
        std::cerr << "profiled export: " << e.what() << "\n";
        return 2;
    }
    try {
        run_export(request);
        return 0;
    } catch (const std::exception& e) {
        std::fflush(stdout);
        std::cerr << "profiled export: " << e.what() << "\n";
        return 1;
    }
}

} // namespace profiled
