#include "daemon/http/response_head.hpp"

#include <string_view>

#include <boost/beast/http/status.hpp>

namespace profiled {

namespace {
// Whether text can go into a header line as it is.
bool fits_a_header(std::string_view text) { return text.find_first_of("\r\n") == std::string_view::npos; }

// Appends "name: value\r\n".
void add_field(std::string& head, std::string_view name, std::string_view value)
{
    head.append(name).append(": ").append(value).append("\r\n");
}
} // namespace

std::string response_head(const http_response& r, unsigned version, bool keep_alive)
{
    std::string head;
    head.reserve(160);
    head.append(version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ").append(std::to_string(r.status)).append(" ");
    auto reason = boost::beast::http::obsolete_reason(static_cast<boost::beast::http::status>(r.status));
    head.append(reason.data(), reason.size()).append("\r\n");
    add_field(head, "Server", "profiled/" PROFILED_VERSION);
    // A 204 has no content, so neither a type nor a length (RFC 9110 8.6).
    bool no_content = r.status == 204;
    if (!no_content && fits_a_header(r.content_type))
        add_field(head, "Content-Type", r.content_type);
    for (const auto& [name, value] : r.headers) {
        if (fits_a_header(name) && fits_a_header(value) && name.find(':') == std::string::npos)
            add_field(head, name, value);
    }
    if (r.stream) {
        // HTTP/1.0 has no chunks: the body then ends when the connection closes.
        if (version != 10)
            add_field(head, "Transfer-Encoding", "chunked");
    } else if (!no_content) {
        add_field(head, "Content-Length", std::to_string(r.body.size()));
    }
    if (version == 10 && keep_alive && !r.stream)
        add_field(head, "Connection", "keep-alive");
    else if ((version != 10 && !keep_alive) || (version == 10 && r.stream))
        add_field(head, "Connection", "close");
    head.append("\r\n");
    return head;
}

} // namespace profiled
