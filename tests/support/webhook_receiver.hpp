// A webhook receiver for the tests: a small HTTP (or HTTPS) server on 127.0.0.1 in a thread of its own that
// records every request and answers as told: 2xx, an error for the first few, or nothing at all.
#pragma once

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace profiled::test {

// One request the receiver got.
struct received_request {
    std::string method;
    std::string target;
    std::map<std::string, std::string> headers; // lower-case names
    std::string body;
};

// How the receiver answers.
struct receiver_behaviour {
    int fail_first = 0;        // answer the first this many requests with 500
    bool never_answer = false; // read each request and then hold the connection without a word
    std::string cert_file;     // with key_file: HTTPS with this PEM certificate (chain)
    std::string key_file;
};

class webhook_receiver {
public:
    // Listens on 127.0.0.1:0 (or the given port) and serves until destroyed.
    explicit webhook_receiver(receiver_behaviour behaviour = {}, int port = 0);
    ~webhook_receiver();
    webhook_receiver(const webhook_receiver&) = delete;
    webhook_receiver& operator=(const webhook_receiver&) = delete;

    int port() const { return port_; }
    // http://127.0.0.1:PORT/hook (https:// when serving TLS).
    std::string url(const std::string& host = "127.0.0.1") const;
    // Every request so far, complete ones only.
    std::vector<received_request> requests() const;
    // Waits until at least n complete requests came (false after timeout_ms).
    bool wait_for(std::size_t n, int timeout_ms) const;
    // Connections accepted so far (a TLS handshake that failed counts too).
    int connections() const { return connections_.load(); }

private:
    // Accepts connections until stopped, each served in a thread of its own.
    void serve();
    // Reads one request from the connection and answers it.
    void handle(int fd);
    // Closes a connection that is served.
    void data_done(int fd);

    receiver_behaviour behaviour_;
    int listen_fd_ = -1;
    int port_ = 0;
    void* tls_ = nullptr; // SSL_CTX*
    std::atomic<bool> stopping_{false};
    std::atomic<int> connections_{0};
    mutable std::mutex mutex_;
    mutable std::condition_variable arrived_;
    std::vector<received_request> requests_;
    std::vector<int> open_fds_;
    std::vector<std::thread> workers_;
    std::thread acceptor_;
};

// The lowercase hex HMAC-SHA256 of message under key, as a receiver checks a signature.
std::string test_hmac_sha256_hex(const std::string& key, const std::string& message);

} // namespace profiled::test
