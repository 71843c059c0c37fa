// One attempt at a webhook delivery: a POST over http or verified https, within one deadline.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/awaitable.hpp>

#include "daemon/webhooks/webhook_url.hpp"

namespace boost::asio::ssl {
class context;
}

namespace profiled {

// The trust https receivers are verified against: the system's CA store, and a CA file when given. Its OpenSSL
// context is made on first use, so a daemon that never delivers to https does not pay OpenSSL's set-up (about
// 4 MB of memory); with a CA file it is made at once, so that a bad file stops the start.
class tls_trust {
public:
    explicit tls_trust(std::string ca_file);
    ~tls_trust();
    tls_trust(const tls_trust&) = delete;
    tls_trust& operator=(const tls_trust&) = delete;
    // The client context (TLS 1.2 or later, peers verified); made on the first call, on the sender's thread.
    boost::asio::ssl::context& context();

private:
    std::string ca_file_;
    std::unique_ptr<boost::asio::ssl::context> context_;
};

// How attempts reach receivers: the TLS trust, the address guard and the time each attempt gets.
struct delivery_network {
    tls_trust& tls;                 // verifies the receiver's certificate chain
    bool allow_private = false;     // connect to non-public addresses too (see is_public_address)
    std::chrono::milliseconds timeout{10000};
};

// The request of one attempt.
struct attempt_request {
    webhook_target target;
    std::string body;
    std::string signature;   // Profiled-Signature
    std::string delivery_id; // Profiled-Delivery-Id
};

// What the receiver said, or why it could not be asked.
struct attempt_result {
    std::optional<int> status_code;   // the answer's status, when one came
    std::optional<std::string> error; // set unless delivered
    bool delivered() const { return !error; }
};

// Resolves the host, connects only to addresses the guard allows (the ones resolved for this attempt, so a name
// that changes its answer cannot lead elsewhere), shakes hands (https: SNI, certificate and host name verified),
// POSTs the body and reads the answer's status. A 2xx is delivered; anything else, a redirect included, is an
// error. Runs on the caller's executor; never throws for network trouble.
boost::asio::awaitable<attempt_result> send_attempt(const delivery_network& network, const attempt_request& request);

} // namespace profiled
