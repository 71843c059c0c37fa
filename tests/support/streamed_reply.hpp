// A GET whose chunked answer the test reads at its own pace: all of it, a little, or none before hanging up.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "tests/support/http_client.hpp"

namespace profiled::test {

class streamed_reply {
public:
    // Sends GET target to 127.0.0.1:port (receive_buffer: the socket's SO_RCVBUF, 0 for the default, small to
    // make the server wait for the test) and reads the response head.
    streamed_reply(int port, const std::string& target, const header_list& headers, int receive_buffer = 0);
    ~streamed_reply();
    streamed_reply(const streamed_reply&) = delete;
    streamed_reply& operator=(const streamed_reply&) = delete;

    int status() const { return status_; }
    // Response headers, lower-case names.
    const std::map<std::string, std::string>& headers() const { return headers_; }
    // Reads until at least bytes body bytes are decoded or the body ends; false once it has ended (whole or cut).
    bool read_at_least(std::size_t bytes, int timeout_ms = 30000);
    // Reads to the end of the body; true when it ended with its last chunk (complete), false when cut or timed out.
    bool read_to_end(int timeout_ms = 30000);
    // The decoded body so far.
    const std::string& body() const { return body_; }
    // Its lines (the last one without its newline dropped).
    std::vector<std::string> lines() const;
    // The trailer fields after the last chunk, lower-case names.
    const std::map<std::string, std::string>& trailers() const { return trailers_; }
    // Hangs up now.
    void close();

private:
    // More bytes from the socket into raw_; false on close or timeout.
    bool fill(int timeout_ms);
    // Decodes what raw_ holds; true once the last chunk and trailers are in.
    bool decode();

    int fd_ = -1;
    int status_ = 0;
    bool chunked_ = false;
    bool ended_ = false;
    bool complete_ = false;
    std::string raw_;
    std::string body_;
    std::map<std::string, std::string> headers_;
    std::map<std::string, std::string> trailers_;
};

} // namespace profiled::test
