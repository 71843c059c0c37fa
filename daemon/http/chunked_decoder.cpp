#include "daemon/http/chunked_decoder.hpp"

#include <algorithm>

namespace profiled {

namespace {

using status = chunked_decoder::status;

// Longest chunk-size token, leading zeros included; 16 significant hex digits fill 64 bits.
constexpr std::size_t max_size_chars = 32;

// The value of a hex digit, or -1.
int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

// True for a tchar (RFC 9110 5.6.2), the bytes of extension and field names.
bool is_token_char(char c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return true;
    switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
    case '-': case '.': case '^': case '_': case '`': case '|': case '~':
        return true;
    default:
        return false;
    }
}

// True for SP and HTAB, the only whitespace RFC 9112 allows in a chunk line (BWS).
bool is_blank(char c) { return c == ' ' || c == '\t'; }

// True for a control character other than HTAB, which no extension or trailer may hold.
bool is_forbidden_ctl(char c)
{
    auto u = static_cast<unsigned char>(c);
    return (u < 0x20 && u != '\t') || u == 0x7f;
}

} // namespace

chunked_decoder::chunked_decoder(std::size_t framing_budget, std::uint64_t body_limit)
    : framing_budget_(framing_budget), body_limit_(body_limit)
{
}

status chunked_decoder::fail(status why, std::string_view reason)
{
    state_ = state::failed;
    error_ = why;
    reason_ = reason;
    return why;
}

status chunked_decoder::charge_framing()
{
    if (++framing_used_ > framing_budget_)
        return fail(status::framing_limit, "chunk extensions and trailers exceed their byte budget");
    return status::more;
}

status chunked_decoder::end_size()
{
    if (size_digits_ == 0)
        return fail(status::bad_framing, "a chunk line has no chunk size");
    // body_bytes_ never passes body_limit_, so the subtraction cannot wrap.
    if (chunk_size_ > body_limit_ - body_bytes_)
        return fail(status::body_limit, "the chunked body exceeds its limit");
    return status::more;
}

status chunked_decoder::feed(std::string_view input, std::string& out, std::size_t& consumed)
{
    consumed = 0;
    if (state_ == state::failed)
        return error_;
    if (state_ == state::finished)
        return status::done;
    std::size_t at = 0;
    while (at < input.size()) {
        if (state_ == state::data) {
            auto take = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, input.size() - at));
            out.append(input.data() + at, take);
            at += take;
            remaining_ -= take;
            body_bytes_ += take;
            if (remaining_ == 0)
                state_ = state::data_cr;
            continue;
        }
        status s = step(input[at]);
        if (s != status::more) {
            consumed = s == status::done ? at + 1 : at;
            return s;
        }
        ++at;
    }
    consumed = at;
    return status::more;
}

status chunked_decoder::step(char c)
{
    constexpr auto bad = status::bad_framing;
    constexpr auto more = status::more;
    const bool in_extension = state_ >= state::bws && state_ <= state::ext_value_end;
    const bool in_trailer = state_ == state::trailer_name || state_ == state::trailer_value ||
                            state_ == state::trailer_lf || (state_ == state::trailer_start && c != '\r');
    // Every byte from the one after the size up to the chunk line's CR, and every byte of a trailer line.
    if ((in_extension && c != '\r') || in_trailer) {
        if (charge_framing() != more)
            return error_;
    }
    if (in_extension && c != '\r' && c != '\n' && state_ != state::ext_quoted &&
        state_ != state::ext_quoted_pair && is_forbidden_ctl(c))
        return fail(bad, "a chunk extension holds a control character");

    switch (state_) {
    case state::size: {
        int v = hex_value(c);
        if (v >= 0) {
            if (++size_digits_ > max_size_chars)
                return fail(bad, "the chunk size is longer than 32 characters");
            if (chunk_size_ >> 60)
                return fail(bad, "the chunk size does not fit in 64 bits");
            chunk_size_ = chunk_size_ << 4 | static_cast<std::uint64_t>(v);
            return more;
        }
        if (c == '\n')
            return fail(bad, "a chunk line ends in a bare LF");
        if (c != '\r' && c != ';' && !is_blank(c))
            return fail(bad, "the chunk size is not hexadecimal");
        if (end_size() != more)
            return error_;
        if (c == '\r') {
            state_ = state::size_lf;
            return more;
        }
        state_ = c == ';' ? state::ext_name_start : state::bws;
        return charge_framing();
    }
    case state::bws:
        if (is_blank(c))
            return more;
        if (c == ';') {
            state_ = state::ext_name_start;
            return more;
        }
        if (c == '\n')
            return fail(bad, "a chunk line ends in a bare LF");
        return fail(bad, "whitespace in a chunk line that does not lead to ';'");
    case state::ext_name_start:
        if (is_blank(c))
            return more;
        if (is_token_char(c)) {
            state_ = state::ext_name;
            return more;
        }
        if (c == '\n')
            return fail(bad, "a chunk line ends in a bare LF");
        return fail(bad, "a chunk extension has no name");
    case state::ext_name:
    case state::ext_value:
        if (is_token_char(c))
            return more;
        if (is_blank(c)) {
            state_ = state_ == state::ext_name ? state::ext_name_end : state::bws;
            return more;
        }
        if (c == '=' && state_ == state::ext_name) {
            state_ = state::ext_value_start;
            return more;
        }
        if (c == ';') {
            state_ = state::ext_name_start;
            return more;
        }
        if (c == '\r') {
            state_ = state::size_lf;
            return more;
        }
        if (c == '\n')
            return fail(bad, "a chunk line ends in a bare LF");
        return fail(bad, "a chunk extension is not a token");
    case state::ext_name_end:
        if (is_blank(c))
            return more;
        if (c == '=') {
            state_ = state::ext_value_start;
            return more;
        }
        if (c == ';') {
            state_ = state::ext_name_start;
            return more;
        }
        if (c == '\n')
            return fail(bad, "a chunk line ends in a bare LF");
        return fail(bad, "whitespace after a chunk extension name that does not lead to '=' or ';'");
    case state::ext_value_start:
        if (is_blank(c))
            return more;
        if (c == '"') {
            state_ = state::ext_quoted;
            return more;
        }
        if (is_token_char(c)) {
            state_ = state::ext_value;
            return more;
        }
        if (c == '\n')
            return fail(bad, "a chunk line ends in a bare LF");
        return fail(bad, "a chunk extension value is missing or not a token");
    case state::ext_quoted:
        if (c == '"')
            state_ = state::ext_value_end;
        else if (c == '\\')
            state_ = state::ext_quoted_pair;
        else if (is_forbidden_ctl(c))
            return fail(bad, "a chunk extension holds a control character");
        return more;
    case state::ext_quoted_pair:
        if (is_forbidden_ctl(c))
            return fail(bad, "a chunk extension holds a control character");
        state_ = state::ext_quoted;
        return more;
    case state::ext_value_end:
        if (c == ';') {
            state_ = state::ext_name_start;
            return more;
        }
        if (is_blank(c)) {
            state_ = state::bws;
            return more;
        }
        if (c == '\r') {
            state_ = state::size_lf;
            return more;
        }
        if (c == '\n')
            return fail(bad, "a chunk line ends in a bare LF");
        return fail(bad, "a quoted chunk extension value is followed by junk");
    case state::size_lf:
        if (c != '\n')
            return fail(bad, "a CR in a chunk line is not followed by LF");
        if (chunk_size_ == 0) {
            state_ = state::trailer_start;
        } else {
            remaining_ = chunk_size_;
            state_ = state::data;
        }
        return more;
    case state::data_cr:
        if (c == '\r') {
            state_ = state::data_lf;
            return more;
        }
        if (c == '\n')
            return fail(bad, "chunk data is followed by a bare LF");
        return fail(bad, "chunk data is not followed by CRLF");
    case state::data_lf:
        if (c != '\n')
            return fail(bad, "the CR after chunk data is not followed by LF");
        chunk_size_ = 0;
        size_digits_ = 0;
        state_ = state::size;
        return more;
    case state::trailer_start:
        if (c == '\r') {
            state_ = state::final_lf;
            return more;
        }
        if (is_token_char(c)) {
            state_ = state::trailer_name;
            return more;
        }
        if (c == '\n')
            return fail(bad, "the chunked body ends in a bare LF");
        if (is_blank(c))
            return fail(bad, "a trailer line starts with whitespace (obsolete line folding)");
        return fail(bad, "a trailer field name is not a token");
    case state::trailer_name:
        if (is_token_char(c))
            return more;
        if (c == ':') {
            state_ = state::trailer_value;
            return more;
        }
        if (c == '\n')
            return fail(bad, "a trailer line ends in a bare LF");
        if (c == '\r')
            return fail(bad, "a trailer line has no colon");
        return fail(bad, "a trailer field name is not a token");
    case state::trailer_value:
        if (c == '\r') {
            state_ = state::trailer_lf;
            return more;
        }
        if (c == '\n')
            return fail(bad, "a trailer line ends in a bare LF");
        if (is_forbidden_ctl(c))
            return fail(bad, "a trailer holds a control character");
        return more;
    case state::trailer_lf:
        if (c != '\n')
            return fail(bad, "a CR in a trailer line is not followed by LF");
        state_ = state::trailer_start;
        return more;
    case state::final_lf:
        if (c != '\n')
            return fail(bad, "the chunked body's final CR is not followed by LF");
        state_ = state::finished;
        return status::done;
    case state::data:
    case state::finished:
    case state::failed:
        break;
    }
    return fail(bad, "the chunked decoder reached an impossible state");
}

} // namespace profiled
