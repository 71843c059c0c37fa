// The HTTP stack's own ceiling: a bare Boost.Beast server in the same style as profiled's (one io thread, C++20
// coroutines, beast::tcp_stream with a timeout per operation, a string body) that answers every request with
// 202 {} and does nothing else. Measured beside nginx `return 202` and profiled, it tells how much of a gap to
// nginx is the library's and how much is profiled's own work.
// Usage: beast_baseline PORT   (prints "listening PORT" once ready; 0 picks a free port)
#include <cstdio>
#include <cstdlib>

#include <boost/asio.hpp>
#include <boost/beast.hpp>

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;

namespace {

// Answers the requests of one keep-alive connection until the client closes it.
net::awaitable<void> serve(tcp::socket socket)
{
    beast::tcp_stream stream(std::move(socket));
    beast::flat_buffer buffer;
    for (;;) {
        http::request<http::string_body> req;
        stream.expires_after(30s);
        auto [read_error, read_bytes] = co_await http::async_read(stream, buffer, req, net::as_tuple(net::use_awaitable));
        if (read_error)
            break;
        http::response<http::string_body> res{http::status::accepted, req.version()};
        res.set(http::field::content_type, "application/json");
        res.body() = "{}";
        res.keep_alive(req.keep_alive());
        res.prepare_payload();
        stream.expires_after(30s);
        auto [write_error, written] = co_await http::async_write(stream, res, net::as_tuple(net::use_awaitable));
        if (write_error || !res.keep_alive())
            break;
    }
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

// Accepts connections forever.
net::awaitable<void> listen(tcp::acceptor& acceptor)
{
    for (;;) {
        auto [error, socket] = co_await acceptor.async_accept(net::as_tuple(net::use_awaitable));
        if (!error)
            net::co_spawn(acceptor.get_executor(), serve(std::move(socket)), net::detached);
    }
}

} // namespace

int main(int argc, char** argv)
{
    net::io_context io(1);
    tcp::acceptor acceptor(io, {net::ip::make_address("127.0.0.1"), static_cast<unsigned short>(argc > 1 ? std::atoi(argv[1]) : 0)});
    std::printf("listening %u\n", acceptor.local_endpoint().port());
    std::fflush(stdout);
    net::co_spawn(io, listen(acceptor), net::detached);
    io.run();
}
