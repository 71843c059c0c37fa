#include "tests/support/raw_socket.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <stdexcept>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/support/http_client.hpp"

namespace profiled::test {

namespace {

// Milliseconds on the steady clock.
long long now_ms()
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

// What is left of a deadline, for poll (at least 0).
int left_ms(long long deadline_ms) { return static_cast<int>(std::max(0LL, deadline_ms - now_ms())); }

// The name in lower case.
std::string lower(std::string s)
{
    for (auto& c : s)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

} // namespace

raw_socket::raw_socket(int port) : fd_(connect_loopback(port)) {}

raw_socket::~raw_socket() { ::close(fd_); }

bool raw_socket::receive_until(long long deadline_ms)
{
    if (eof_)
        return false;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, left_ms(deadline_ms)) <= 0)
        return false;
    char chunk[65536];
    ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) {
        eof_ = true;
        return false;
    }
    received_.append(chunk, static_cast<std::size_t>(n));
    return true;
}

bool raw_socket::send(std::string_view bytes, int timeout_ms)
{
    long long deadline = now_ms() + timeout_ms;
    std::size_t sent = 0;
    while (sent < bytes.size()) {
        pollfd p{fd_, static_cast<short>(POLLOUT | (eof_ ? 0 : POLLIN)), 0};
        if (::poll(&p, 1, left_ms(deadline)) <= 0)
            return false;
        if (p.revents & POLLIN) {
            if (!receive_until(deadline))
                return false;
            continue;
        }
        if (p.revents & (POLLERR | POLLHUP))
            return false;
        ssize_t n = ::send(fd_, bytes.data() + sent, std::min<std::size_t>(bytes.size() - sent, 65536),
                           MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            continue;
        if (n <= 0)
            return false;
        sent += static_cast<std::size_t>(n);
    }
    return true;
}

http_reply raw_socket::read_response(int timeout_ms, bool head_only)
{
    long long deadline = now_ms() + timeout_ms;
    http_reply reply;
    std::size_t end;
    while ((end = received_.find("\r\n\r\n")) == std::string::npos) {
        if (!receive_until(deadline))
            return reply;
    }
    std::string head = received_.substr(0, end);
    if (head.rfind("HTTP/1.", 0) != 0 || head.size() < 12)
        return reply;
    std::size_t pos = head.find("\r\n");
    std::size_t line_end = pos == std::string::npos ? head.size() : pos;
    int status = std::atoi(head.substr(9, 3).c_str());
    pos = line_end == head.size() ? head.size() : line_end + 2;
    while (pos < head.size()) {
        std::size_t next = head.find("\r\n", pos);
        if (next == std::string::npos)
            next = head.size();
        std::string line = head.substr(pos, next - pos);
        auto colon = line.find(':');
        if (colon != std::string::npos) {
            std::string value = line.substr(colon + 1);
            value.erase(0, value.find_first_not_of(" \t"));
            value.erase(value.find_last_not_of(" \t") + 1);
            reply.headers[lower(line.substr(0, colon))] = value;
        }
        pos = next + 2;
    }
    std::size_t length = 0;
    bool bodiless = head_only || status / 100 == 1 || status == 204 || status == 304;
    if (!bodiless && reply.headers.count("content-length"))
        length = std::stoul(reply.headers["content-length"]);
    while (received_.size() < end + 4 + length) {
        if (!receive_until(deadline))
            return http_reply{};
    }
    reply.status = status;
    reply.body = received_.substr(end + 4, length);
    received_.erase(0, end + 4 + length);
    if (status == 100) // interim response; the real one follows
        return read_response(left_ms(deadline), head_only);
    return reply;
}

bool raw_socket::quiet(int timeout_ms)
{
    long long deadline = now_ms() + timeout_ms;
    while (received_.empty()) {
        if (!receive_until(deadline))
            return received_.empty() && !eof_;
    }
    return false;
}

bool raw_socket::closed_by_server(int timeout_ms)
{
    long long deadline = now_ms() + timeout_ms;
    while (!eof_) {
        if (!receive_until(deadline) && !eof_)
            return false;
    }
    return true;
}

} // namespace profiled::test
