// The HTTP transport: the listener and its sessions (Beast, C++20 coroutines) on the io thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace boost::asio {
class io_context;
}

namespace profiled {

class router;
struct server_context;

class http_server {
public:
    http_server(boost::asio::io_context& io, router& routes, server_context& ctx);
    ~http_server();

    // Binds and listens on host:port; returns the bound port (useful with port 0).
    std::uint16_t listen(const std::string& host_port);
    // Starts accepting connections.
    void start();
    // Stops accepting; idle keep-alive connections are closed, in-flight requests finish.
    void stop_accepting();
    // Connections currently open.
    std::size_t open_sessions() const;
    // Requests read but not yet answered.
    std::size_t requests_in_flight() const;
    // Closes every connection now (after the shutdown grace period).
    void close_all();

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

} // namespace profiled
