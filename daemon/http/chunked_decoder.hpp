// A strict decoder for HTTP/1.1 chunked bodies (RFC 9112 7.1): plain bytes in, body bytes out, no I/O.
// Chunk extensions and trailers are read and dropped, and count against a byte budget, so a request
// cannot grow the daemon's memory or crash it with them before anything else is checked.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace profiled {

class chunked_decoder {
public:
    enum class status {
        more,           // every byte given was taken; give more
        done,           // the body ended (last chunk, trailers, final CRLF); bytes after it were not taken
        bad_framing,    // not valid chunked framing (bare LF, a size that is not hex, data not followed by CRLF, ...)
        framing_limit,  // chunk extensions and trailers together exceed the budget
        body_limit,     // the body's data exceeds its limit
    };

    // framing_budget: bytes allowed for chunk extensions and trailer lines (CRLFs included) over the whole
    // body; body_limit: bytes allowed for the body's data.
    chunked_decoder(std::size_t framing_budget, std::uint64_t body_limit);

    // Decodes input, appending the body's data to out. Returns the status and, through consumed, how many
    // bytes of input were taken (all of them on `more`; up to the end of the body on `done`; on an error,
    // those before the offending byte, and none once the error was already reported).
    status feed(std::string_view input, std::string& out, std::size_t& consumed);

    // A short human-readable reason for the last bad_framing, e.g. "a chunk line ends in a bare LF".
    std::string_view reason() const { return reason_; }
    // Data bytes decoded so far.
    std::uint64_t body_bytes() const { return body_bytes_; }

private:
    enum class state {
        size,             // hex digits of the chunk size
        bws,              // BWS after the size or an extension value, which must lead to ';'
        ext_name_start,   // after ';': BWS, then the extension's name
        ext_name,         // inside an extension name
        ext_name_end,     // BWS after a name: '=', ';' or the line's CR follow
        ext_value_start,  // after '=': BWS, then a token or a quoted string
        ext_value,        // inside a token value
        ext_quoted,       // inside a quoted-string value
        ext_quoted_pair,  // the byte after a backslash in a quoted string
        ext_value_end,    // after a value: ';', BWS then ';', or the line's CR
        size_lf,          // the LF after the chunk line's CR
        data,             // chunk data
        data_cr,          // the CR after chunk data
        data_lf,          // the LF after chunk data
        trailer_start,    // start of a trailer line, or the final CR
        trailer_name,     // inside a trailer field name
        trailer_value,    // after the trailer field's ':', up to CR
        trailer_lf,       // the LF after a trailer line's CR
        final_lf,         // the LF that ends the body
        finished,
        failed,
    };

    // Records the error (every later feed() returns it) and returns it.
    status fail(status why, std::string_view reason);
    // Counts one byte of extension or trailer against the budget; `more`, or framing_limit once it is exceeded.
    status charge_framing();
    // Takes one byte of a chunk line, a CRLF or a trailer; `more` to go on, else where decoding stops.
    status step(char c);
    // Ends the chunk-size token: refuses an empty size and one that would pass the body limit.
    status end_size();

    std::size_t framing_budget_;
    std::uint64_t body_limit_;
    state state_ = state::size;
    status error_ = status::more;
    std::uint64_t chunk_size_ = 0;
    std::uint64_t remaining_ = 0;
    std::size_t size_digits_ = 0;
    std::size_t framing_used_ = 0;
    std::uint64_t body_bytes_ = 0;
    std::string_view reason_;
};

} // namespace profiled
