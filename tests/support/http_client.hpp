// A small blocking HTTP/1.1 client over plain sockets, able to send well-formed and deliberately broken requests.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/json/value.hpp>

namespace profiled::test {

using header_list = std::vector<std::pair<std::string, std::string>>;

struct http_reply {
    int status = 0;
    std::map<std::string, std::string> headers; // lower-case names
    std::string body;

    // The body parsed as JSON (throws when it is not).
    boost::json::value json() const;
    // The first error's error_code in the common error body, or "".
    std::string error_code() const;
    // The first error's message in the common error body, or "".
    std::string error_message() const;
};

// One keep-alive connection to 127.0.0.1:port.
// A TCP connection to 127.0.0.1:port (the socket); throws when nothing listens there.
int connect_loopback(int port);

class http_connection {
public:
    explicit http_connection(int port);
    ~http_connection();
    http_connection(const http_connection&) = delete;
    http_connection& operator=(const http_connection&) = delete;

    // Sends bytes as they are.
    void send_raw(const std::string& bytes);
    // Reads one response (Content-Length or chunked); status 0 when the server closed the connection first.
    http_reply read_reply(int timeout_ms = 30000);
    // Sends a request with Content-Length and reads its response.
    http_reply request(const std::string& method, const std::string& target, const std::string& body = "",
                       const header_list& headers = {});
    // True when the server has closed the connection (reads EOF within timeout_ms).
    bool closed_by_server(int timeout_ms = 2000);
    // Reads whatever the server still sends until it closes the connection within timeout_ms: the bytes
    // read (an answer such as a 408, or nothing), or nullopt when the connection is still open by then.
    std::optional<std::string> read_until_closed(int timeout_ms);
    // The socket, for tests that poll it themselves.
    int fd() const { return fd_; }

private:
    bool fill(int timeout_ms);
    int fd_ = -1;
    std::string buffered_;
};

// Sends one request on a fresh connection.
http_reply http_call(int port, const std::string& method, const std::string& target, const std::string& body = "",
                     const header_list& headers = {});

} // namespace profiled::test
