#include "tests/support/webhook_receiver.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <netinet/in.h>
#include <poll.h>
#include <stdexcept>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/ssl.h>

namespace profiled::test {

namespace {

// Reads and writes one connection, plain or TLS.
struct connection_io {
    int fd;
    SSL* ssl = nullptr;
    // Bytes read, 0 on close, -1 on error; waits up to timeout_ms.
    long read(char* buf, std::size_t n, int timeout_ms)
    {
        if (!ssl || SSL_pending(ssl) == 0) {
            pollfd p{fd, POLLIN, 0};
            if (::poll(&p, 1, timeout_ms) <= 0)
                return -1;
        }
        if (ssl) {
            int r = SSL_read(ssl, buf, static_cast<int>(n));
            return r > 0 ? r : (SSL_get_error(ssl, r) == SSL_ERROR_ZERO_RETURN ? 0 : -1);
        }
        return ::read(fd, buf, n);
    }
    void write(const std::string& s)
    {
        if (ssl)
            SSL_write(ssl, s.data(), static_cast<int>(s.size()));
        else
            (void)!::write(fd, s.data(), s.size());
    }
};

std::string lower(std::string s)
{
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

} // namespace

webhook_receiver::webhook_receiver(receiver_behaviour behaviour, int port) : behaviour_(std::move(behaviour))
{
    if (!behaviour_.cert_file.empty()) {
        SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
        if (SSL_CTX_use_certificate_chain_file(ctx, behaviour_.cert_file.c_str()) != 1 ||
            SSL_CTX_use_PrivateKey_file(ctx, behaviour_.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
            SSL_CTX_free(ctx);
            throw std::runtime_error("webhook_receiver: cannot load the certificate or key");
        }
        tls_ = ctx;
    }
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(listen_fd_, 64) != 0)
        throw std::runtime_error("webhook_receiver: cannot listen");
    socklen_t len = sizeof a;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    acceptor_ = std::thread([this] { serve(); });
}

webhook_receiver::~webhook_receiver()
{
    stopping_ = true;
    ::shutdown(listen_fd_, SHUT_RDWR);
    acceptor_.join();
    {
        std::lock_guard lock(mutex_);
        for (int fd : open_fds_)
            ::shutdown(fd, SHUT_RDWR);
    }
    for (auto& t : workers_)
        t.join();
    ::close(listen_fd_);
    if (tls_)
        SSL_CTX_free(static_cast<SSL_CTX*>(tls_));
}

std::string webhook_receiver::url(const std::string& host) const
{
    return std::string(tls_ ? "https://" : "http://") + host + ":" + std::to_string(port_) + "/hook";
}

std::vector<received_request> webhook_receiver::requests() const
{
    std::lock_guard lock(mutex_);
    return requests_;
}

bool webhook_receiver::wait_for(std::size_t n, int timeout_ms) const
{
    std::unique_lock lock(mutex_);
    return arrived_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] { return requests_.size() >= n; });
}

void webhook_receiver::serve()
{
    while (!stopping_) {
        pollfd p{listen_fd_, POLLIN, 0};
        if (::poll(&p, 1, 100) <= 0)
            continue;
        int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0)
            continue;
        ++connections_;
        std::lock_guard lock(mutex_);
        open_fds_.push_back(fd);
        workers_.emplace_back([this, fd] { handle(fd); });
    }
}

void webhook_receiver::handle(int fd)
{
    connection_io io{fd};
    if (tls_) {
        io.ssl = SSL_new(static_cast<SSL_CTX*>(tls_));
        SSL_set_fd(io.ssl, fd);
        if (SSL_accept(io.ssl) != 1) {
            SSL_free(io.ssl);
            io.ssl = nullptr;
            data_done(fd);
            return;
        }
    }
    std::string data;
    char buf[8192];
    std::size_t header_end = std::string::npos;
    std::size_t content_length = 0;
    received_request req;
    for (;;) {
        long n = io.read(buf, sizeof buf, 5000);
        if (n <= 0)
            break;
        data.append(buf, static_cast<std::size_t>(n));
        if (header_end == std::string::npos && (header_end = data.find("\r\n\r\n")) != std::string::npos) {
            std::string head = data.substr(0, header_end);
            std::size_t line_end = head.find("\r\n");
            std::string request_line = head.substr(0, line_end);
            req.method = request_line.substr(0, request_line.find(' '));
            req.target = request_line.substr(req.method.size() + 1, request_line.rfind(' ') - req.method.size() - 1);
            std::size_t at = line_end == std::string::npos ? head.size() : line_end + 2;
            while (at < head.size()) {
                std::size_t next = head.find("\r\n", at);
                if (next == std::string::npos)
                    next = head.size();
                std::string line = head.substr(at, next - at);
                std::size_t colon = line.find(':');
                if (colon != std::string::npos) {
                    std::string value = line.substr(colon + 1);
                    value.erase(0, value.find_first_not_of(' '));
                    req.headers[lower(line.substr(0, colon))] = value;
                }
                at = next + 2;
            }
            if (auto it = req.headers.find("content-length"); it != req.headers.end())
                content_length = std::stoul(it->second);
        }
        if (header_end != std::string::npos && data.size() >= header_end + 4 + content_length) {
            req.body = data.substr(header_end + 4, content_length);
            std::size_t index;
            {
                std::lock_guard lock(mutex_);
                requests_.push_back(req);
                index = requests_.size();
            }
            arrived_.notify_all();
            if (behaviour_.never_answer) {
                while (!stopping_ && io.read(buf, sizeof buf, 100) != 0) {
                }
                break;
            }
            bool fail = static_cast<int>(index) <= behaviour_.fail_first;
            io.write(fail ? "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 4\r\nConnection: close\r\n\r\nfail"
                          : "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n");
            break;
        }
    }
    if (io.ssl) {
        SSL_shutdown(io.ssl);
        SSL_free(io.ssl);
    }
    data_done(fd);
}

void webhook_receiver::data_done(int fd)
{
    std::lock_guard lock(mutex_);
    open_fds_.erase(std::remove(open_fds_.begin(), open_fds_.end(), fd), open_fds_.end());
    ::close(fd);
}

std::string test_hmac_sha256_hex(const std::string& key, const std::string& message)
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(message.data()),
         message.size(), digest, &length);
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    for (unsigned int i = 0; i < length; ++i) {
        out.push_back(hex[digest[i] >> 4]);
        out.push_back(hex[digest[i] & 0xf]);
    }
    return out;
}

} // namespace profiled::test
