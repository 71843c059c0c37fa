#include "tests/support/streamed_reply.hpp"

#include <chrono>
#include <stdexcept>

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace profiled::test {

namespace {

// The lower-cased header name.
std::string lower(std::string text)
{
    for (auto& c : text)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return text;
}

// "Name: value" lines of a block into fields.
void parse_fields(const std::string& block, std::map<std::string, std::string>& fields)
{
    std::size_t pos = 0;
    while (pos < block.size()) {
        std::size_t end = block.find("\r\n", pos);
        if (end == std::string::npos)
            end = block.size();
        std::string line = block.substr(pos, end - pos);
        auto colon = line.find(':');
        if (colon != std::string::npos) {
            std::string value = line.substr(colon + 1);
            while (!value.empty() && value.front() == ' ')
                value.erase(0, 1);
            fields[lower(line.substr(0, colon))] = value;
        }
        pos = end + 2;
    }
}

} // namespace

streamed_reply::streamed_reply(int port, const std::string& target, const header_list& headers, int receive_buffer)
{
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd_ < 0)
        throw std::runtime_error("no socket");
    if (receive_buffer > 0)
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
        throw std::runtime_error("cannot connect to port " + std::to_string(port));
    std::string req = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    for (const auto& [name, value] : headers)
        req += name + ": " + value + "\r\n";
    req += "\r\n";
    if (::send(fd_, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size()))
        throw std::runtime_error("cannot send the request");
    std::size_t end;
    while ((end = raw_.find("\r\n\r\n")) == std::string::npos) {
        if (!fill(30000))
            throw std::runtime_error("no response head");
    }
    std::string head = raw_.substr(0, end);
    raw_.erase(0, end + 4);
    status_ = std::stoi(head.substr(9, 3));
    parse_fields(head.substr(head.find("\r\n") + 2), headers_);
    chunked_ = lower(headers_["transfer-encoding"]) == "chunked";
    if (!chunked_) {
        // An error answer: its Content-Length body, whole.
        std::size_t length = headers_.count("content-length") ? std::stoul(headers_["content-length"]) : 0;
        while (raw_.size() < length && fill(30000)) {
        }
        body_ = raw_.substr(0, length);
        ended_ = true;
        complete_ = raw_.size() >= length;
    }
}

streamed_reply::~streamed_reply() { close(); }

void streamed_reply::close()
{
    if (fd_ >= 0)
        ::close(fd_);
    fd_ = -1;
}

bool streamed_reply::fill(int timeout_ms)
{
    if (fd_ < 0)
        return false;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0)
        return false;
    char piece[16384];
    ssize_t n = ::recv(fd_, piece, sizeof piece, 0);
    if (n <= 0)
        return false;
    raw_.append(piece, static_cast<std::size_t>(n));
    return true;
}

bool streamed_reply::decode()
{
    for (;;) {
        std::size_t line_end = raw_.find("\r\n");
        if (line_end == std::string::npos)
            return false;
        std::size_t size = std::stoul(raw_.substr(0, line_end), nullptr, 16);
        if (size == 0) {
            std::size_t end = raw_.find("\r\n\r\n", line_end);
            if (raw_.compare(line_end, 4, "\r\n\r\n") == 0)
                end = line_end;
            if (end == std::string::npos)
                return false;
            parse_fields(raw_.substr(line_end + 2, end - line_end), trailers_);
            raw_.erase(0, end + 4);
            return true;
        }
        if (raw_.size() < line_end + 2 + size + 2)
            return false;
        body_.append(raw_, line_end + 2, size);
        raw_.erase(0, line_end + 2 + size + 2);
    }
}

bool streamed_reply::read_at_least(std::size_t bytes, int timeout_ms)
{
    auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (!ended_ && body_.size() < bytes) {
        if (decode()) {
            ended_ = complete_ = true;
            break;
        }
        if (body_.size() >= bytes)
            break;
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
        if (left.count() <= 0 || !fill(static_cast<int>(left.count()))) {
            ended_ = true;
            break;
        }
    }
    return !ended_;
}

bool streamed_reply::read_to_end(int timeout_ms)
{
    read_at_least(std::string::npos, timeout_ms);
    return complete_;
}

std::vector<std::string> streamed_reply::lines() const
{
    std::vector<std::string> out;
    std::size_t pos = 0;
    for (std::size_t nl; (nl = body_.find('\n', pos)) != std::string::npos; pos = nl + 1)
        out.push_back(body_.substr(pos, nl - pos));
    return out;
}

} // namespace profiled::test
