// One raw TCP connection for HTTP framing tests: bytes go out exactly as given, the write side stays open,
// and each response is read by its own framing (none after HEAD) against a deadline.
#pragma once

#include <string>
#include <string_view>

#include "tests/support/http_client.hpp"

namespace profiled::test {

class raw_socket {
public:
    // Connects to 127.0.0.1:port.
    explicit raw_socket(int port);
    ~raw_socket();
    raw_socket(const raw_socket&) = delete;
    raw_socket& operator=(const raw_socket&) = delete;

    // Sends bytes, keeping what the server answers meanwhile (it may answer before all is sent); false
    // when the server closed or reset the connection, or timeout_ms passed, first.
    bool send(std::string_view bytes, int timeout_ms = 3000);
    // The next response within timeout_ms, its body by Content-Length, none when head_only (an answer to
    // HEAD); status 0 when no complete response came or the bytes were not one.
    http_reply read_response(int timeout_ms = 3000, bool head_only = false);
    // True when nothing arrives (not even a close) within timeout_ms: no stray bytes after a response.
    bool quiet(int timeout_ms);
    // True when the server has closed the connection within timeout_ms.
    bool closed_by_server(int timeout_ms);

private:
    // Waits for bytes until the deadline (ms since the epoch of steady_clock); false on close or timeout.
    bool receive_until(long long deadline_ms);

    int fd_ = -1;
    bool eof_ = false;
    std::string received_;
};

} // namespace profiled::test
