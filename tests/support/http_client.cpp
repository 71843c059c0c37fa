#include "tests/support/http_client.hpp"

#include <arpa/inet.h>
#include <chrono>
#include <netinet/in.h>
#include <poll.h>
#include <stdexcept>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/json/parse.hpp>

namespace profiled::test {

// The body parsed as JSON.
boost::json::value http_reply::json() const { return boost::json::parse(body); }

namespace {
// The first entry of the common error body's errors array, or null.
const boost::json::object* first_error(const http_reply& r)
{
    boost::system::error_code ec;
    static thread_local boost::json::value parsed;
    parsed = boost::json::parse(r.body, ec);
    if (ec || !parsed.is_object())
        return nullptr;
    auto* errors = parsed.as_object().if_contains("errors");
    if (!errors || !errors->is_array() || errors->as_array().empty() || !errors->as_array()[0].is_object())
        return nullptr;
    return &errors->as_array()[0].as_object();
}
} // namespace

std::string http_reply::error_code() const
{
    auto* e = first_error(*this);
    return e && e->contains("error_code") ? std::string(e->at("error_code").as_string()) : "";
}

std::string http_reply::error_message() const
{
    auto* e = first_error(*this);
    return e && e->contains("message") ? std::string(e->at("message").as_string()) : "";
}

int connect_loopback(int port)
{
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        if (fd >= 0)
            ::close(fd);
        throw std::runtime_error("cannot connect to port " + std::to_string(port));
    }
    return fd;
}

http_connection::http_connection(int port)
{
    fd_ = connect_loopback(port);
}

http_connection::~http_connection() { ::close(fd_); }

// Sends bytes as they are.
void http_connection::send_raw(const std::string& bytes)
{
    std::size_t sent = 0;
    while (sent < bytes.size()) {
        ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
        if (n <= 0)
            return; // the server closed early; the reply (if any) tells the test why
        sent += static_cast<std::size_t>(n);
    }
}

// Reads more bytes into the buffer; false on EOF, error or timeout.
bool http_connection::fill(int timeout_ms)
{
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0)
        return false;
    char chunk[65536];
    ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0)
        return false;
    buffered_.append(chunk, static_cast<std::size_t>(n));
    return true;
}

// Reads one response.
http_reply http_connection::read_reply(int timeout_ms)
{
    http_reply reply;
    std::size_t end;
    while ((end = buffered_.find("\r\n\r\n")) == std::string::npos) {
        if (!fill(timeout_ms))
            return reply;
    }
    std::string head = buffered_.substr(0, end);
    buffered_.erase(0, end + 4);
    std::size_t line_end = head.find("\r\n");
    std::string status_line = head.substr(0, line_end);
    reply.status = std::stoi(status_line.substr(9, 3));
    std::size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
    while (pos < head.size()) {
        std::size_t next = head.find("\r\n", pos);
        if (next == std::string::npos)
            next = head.size();
        std::string line = head.substr(pos, next - pos);
        auto colon = line.find(':');
        if (colon != std::string::npos) {
            std::string name = line.substr(0, colon);
            for (auto& c : name)
                c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            std::string value = line.substr(colon + 1);
            while (!value.empty() && value.front() == ' ')
                value.erase(0, 1);
            reply.headers[name] = value;
        }
        pos = next + 2;
    }
    if (reply.status == 100) // interim response; the real one follows
        return read_reply(timeout_ms);
    std::size_t length = reply.headers.count("content-length") ? std::stoul(reply.headers["content-length"]) : 0;
    while (buffered_.size() < length) {
        if (!fill(timeout_ms))
            break;
    }
    reply.body = buffered_.substr(0, length);
    buffered_.erase(0, std::min(length, buffered_.size()));
    return reply;
}

// Sends a request with Content-Length and reads its response.
http_reply http_connection::request(const std::string& method, const std::string& target, const std::string& body,
                                    const header_list& headers)
{
    std::string req = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    bool has_type = false;
    for (const auto& [k, v] : headers) {
        req += k + ": " + v + "\r\n";
        if (k == "Content-Type" || k == "content-type")
            has_type = true;
    }
    if (!body.empty() && !has_type)
        req += "Content-Type: application/json\r\n";
    if (!body.empty() || method == "POST" || method == "PUT")
        req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    req += "\r\n";
    send_raw(req + body);
    return read_reply();
}

// True when the server has closed the connection.
bool http_connection::closed_by_server(int timeout_ms)
{
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0)
        return false;
    char c;
    return ::recv(fd_, &c, 1, MSG_PEEK) <= 0;
}

// Sends one request on a fresh connection.
http_reply http_call(int port, const std::string& method, const std::string& target, const std::string& body,
                     const header_list& headers)
{
    http_connection c(port);
    return c.request(method, target, body, headers);
}

std::optional<std::string> http_connection::read_until_closed(int timeout_ms)
{
    auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    std::string got;
    std::swap(got, buffered_);
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
        pollfd p{fd_, POLLIN, 0};
        if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0)
            return std::nullopt;
        char piece[4096];
        ssize_t n = ::recv(fd_, piece, sizeof piece, 0);
        if (n <= 0)
            return got;
        got.append(piece, static_cast<std::size_t>(n));
    }
}

} // namespace profiled::test
