// What the client commands (import, export) share: the daemon's address from --url, and the daemon's error
// answers in words.
#pragma once

#include <stdexcept>
#include <string>

namespace profiled {

// Where the daemon listens, from --url.
struct server_address {
    std::string host;        // for the resolver: a name or an address, without IPv6 brackets
    std::string port;        // as text, for the resolver
    std::string host_header; // host and port as the URL spelt them
    std::string base_path;   // anything before /v1 (a reverse-proxy prefix), without a trailing slash
};

// A client command's usage error (bad flags, bad URL): exit 2, like the other subcommands.
struct cli_usage_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Splits --url into what the resolver and the Host header need; throws cli_usage_error for what the daemon cannot
// speak.
server_address parse_server_url(const std::string& text);
// The server's own words from the common error body, with the status; the raw body when it is not one.
std::string describe_error_body(int status, const std::string& answer_body);

} // namespace profiled
