// The HTTP request entry point: the input's head goes through Beast's request parser exactly as
// http_server reads headers, and a chunked body after it through chunked_decoder in pieces. Included by
// entry_points.hpp; needs daemon/http/chunked_decoder.cpp.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/beast/core/error.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include "daemon/http/chunked_decoder.hpp"

namespace profiled::fuzz {

// The daemon's limits for a request head and a chunked JSON body (see http_server.cpp).
constexpr std::size_t http_header_limit = 16384;
constexpr std::size_t http_framing_budget = 16384;
constexpr std::uint64_t http_body_limit = 1024 * 1024;

// What one chunked decode produced.
struct chunked_outcome {
    chunked_decoder::status status = chunked_decoder::status::more;
    std::string body;
    std::size_t consumed = 0;
    std::string reason;

    bool operator==(const chunked_outcome&) const = default;
};

// Piece sizes for feeding a body, taken from the input: 1 to 64 bytes, now and then up to 4 KB.
inline std::vector<std::size_t> piece_sizes(std::string_view data, std::size_t total)
{
    std::vector<std::size_t> out;
    std::uint32_t h = 2166136261u;
    for (std::size_t at = 0, i = 0; at < total; ++i) {
        unsigned char c = data.empty() ? 0 : static_cast<unsigned char>(data[i % data.size()]);
        h = (h ^ c) * 16777619u;
        std::size_t n = (h >> 24) < 16 ? 1 + h % 4096 : 1 + h % 64;
        out.push_back(n);
        at += n;
    }
    return out;
}

// Runs body through a decoder with the given limits, one feed per piece (an empty list = one feed), and
// checks every feed's own promises; a problem goes to `problem`.
inline chunked_outcome run_chunked(std::string_view body, std::size_t budget, std::uint64_t limit,
                                   const std::vector<std::size_t>& pieces, std::optional<std::string>& problem)
{
    chunked_outcome out;
    chunked_decoder decoder(budget, limit);
    std::size_t at = 0;
    std::size_t piece = 0;
    do {
        std::size_t n = pieces.empty() ? body.size() : std::min(pieces[piece++], body.size() - at);
        std::string_view input = body.substr(at, n);
        std::size_t before = out.body.size();
        std::size_t consumed = 0;
        out.status = decoder.feed(input, out.body, consumed);
        if (consumed > input.size())
            problem = "chunked_decoder consumed more than it was given";
        else if (out.status == chunked_decoder::status::more && consumed != input.size())
            problem = "chunked_decoder asked for more without taking everything";
        else if (out.body.size() - before > consumed)
            problem = "chunked_decoder gave more output than the input it took";
        out.consumed += consumed;
        at += n;
    } while (!problem && out.status == chunked_decoder::status::more && at < body.size());
    out.reason = std::string(decoder.reason());
    if (problem)
        return out;
    if (decoder.body_bytes() != out.body.size())
        problem = "chunked_decoder's body_bytes differs from its output";
    else if (out.body.size() > limit)
        problem = "chunked_decoder passed its body limit";
    else if (out.consumed > body.size())
        problem = "chunked_decoder consumed more than the body";
    else if (out.status == chunked_decoder::status::bad_framing && out.reason.empty())
        problem = "chunked_decoder refused without a reason";
    // An error is sticky: the decoder takes and gives nothing more.
    if (!problem && out.status != chunked_decoder::status::more && out.status != chunked_decoder::status::done) {
        std::string extra;
        std::size_t consumed = 0;
        if (decoder.feed("0\r\n\r\n", extra, consumed) != out.status || consumed != 0 || !extra.empty())
            problem = "a chunked_decoder error is not sticky";
    }
    return out;
}

// Where the trailer section of a valid chunked body starts: after the last chunk's line, which follows
// the CRLF after the last data byte (or starts the body when it has no data).
inline std::size_t trailers_offset(std::string_view body)
{
    chunked_decoder decoder(http_framing_budget, http_body_limit);
    std::string out;
    std::optional<std::size_t> last_data;
    for (std::size_t at = 0; at < body.size(); ++at) {
        std::size_t consumed = 0;
        std::size_t before = out.size();
        if (decoder.feed(body.substr(at, 1), out, consumed) != chunked_decoder::status::more)
            break;
        if (out.size() != before)
            last_data = at;
    }
    std::size_t line = last_data ? *last_data + 3 : 0;
    return body.find("\r\n", line) + 2;
}

// What Beast's own parser makes of the whole request (head and chunked body), for comparison.
struct beast_outcome {
    bool done = false;
    std::string body;
    std::size_t consumed = 0;
    boost::beast::error_code error;
};

// Parses request with Beast's string_body parser, limits as for the head, no body limit.
inline beast_outcome beast_parse(std::string_view request)
{
    namespace http = boost::beast::http;
    beast_outcome out;
    http::request_parser<http::string_body> parser;
    parser.header_limit(http_header_limit);
    parser.body_limit(boost::none);
    parser.eager(true);
    while (!parser.is_done() && out.consumed < request.size()) {
        std::size_t n = parser.put(boost::asio::buffer(request.data() + out.consumed, request.size() - out.consumed),
                                   out.error);
        out.consumed += n;
        if (out.error || n == 0)
            break;
    }
    out.done = parser.is_done();
    if (out.done)
        out.body = parser.get().body();
    return out;
}

// Input: raw bytes a client sends. Beast must keep its head limits and not take more than it got; a
// chunked body must decode the same whatever the pieces, within its limits, never more output than
// input; and what the decoder accepts, Beast must accept (trailers aside) with the same body and length.
inline std::optional<std::string> http_request_entry(std::string_view data)
{
    namespace http = boost::beast::http;
    http::request_parser<http::empty_body> parser;
    parser.header_limit(http_header_limit);
    parser.body_limit(boost::none);
    boost::beast::error_code ec;
    std::size_t head = parser.put(boost::asio::buffer(data.data(), data.size()), ec);
    if (head > data.size())
        return std::string("Beast consumed more than the request");
    if (ec || !parser.is_header_done())
        return std::nullopt;
    // Beast applies header_limit to the request line and to the fields separately, so a head may reach
    // twice the limit (the fuzzer found a 16408-byte one), but no more.
    if (head > 2 * http_header_limit)
        return "Beast accepted a head of " + std::to_string(head) + " bytes";
    if (!parser.chunked())
        return std::nullopt;

    std::string_view body = data.substr(head);
    std::optional<std::string> problem;
    chunked_outcome whole = run_chunked(body, http_framing_budget, http_body_limit, {}, problem);
    if (problem)
        return problem;
    chunked_outcome pieces =
        run_chunked(body, http_framing_budget, http_body_limit, piece_sizes(data, body.size()), problem);
    if (problem)
        return problem;
    if (!(whole == pieces))
        return std::string("chunked_decoder's result depends on how the body is split");
    // Small limits, so inputs of a few KB reach the budget and body limit too.
    chunked_outcome small = run_chunked(body, 64, 256, {}, problem);
    if (problem)
        return problem;
    chunked_outcome small_pieces = run_chunked(body, 64, 256, piece_sizes(body, body.size()), problem);
    if (problem)
        return problem;
    if (!(small == small_pieces))
        return std::string("chunked_decoder's result (small limits) depends on how the body is split");
    if (small.status == chunked_decoder::status::done && !(small == whole))
        return std::string("chunked_decoder accepted under small limits what it decodes otherwise with larger ones");

    if (whole.status == chunked_decoder::status::done) {
        // Beast applies header semantics to trailer fields (Connection, Content-Length, Transfer-Encoding
        // ...), which the decoder rightly drops unread, so it is shown the body without them.
        std::size_t trailers = trailers_offset(body);
        std::string request(data.substr(0, head + trailers));
        request += "\r\n";
        beast_outcome beast = beast_parse(request);
        if (!beast.done)
            return "chunked_decoder accepted a chunked body Beast refuses: " + beast.error.message();
        if (beast.body != whole.body)
            return std::string("chunked_decoder's body differs from Beast's");
        if (beast.consumed != request.size())
            return std::string("chunked_decoder's body ends elsewhere than Beast's");
    }
    return std::nullopt;
}

} // namespace profiled::fuzz
