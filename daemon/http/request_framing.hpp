// What a request's header says about how its body is framed, checked before any of the body is read
// (RFC 9110 / 9112): Host, Transfer-Encoding, Content-Length and Content-Encoding.
#pragma once

#include <cstdint>
#include <optional>

#include <boost/system/result.hpp>

#include "common/api_error.hpp"
#include "daemon/http/http_message.hpp"

namespace profiled {

// How the body that follows a header is delimited.
struct body_framing {
    bool chunked = false;
    std::uint64_t content_length = 0; // when not chunked; 0 = no body
    // True when a body follows.
    bool has_body() const { return chunked || content_length > 0; }
};

// The body's framing, or the refusal: HTTP/1.1 without exactly one Host, a Transfer-Encoding other than
// exactly "chunked" (or beside a Content-Length, or on HTTP/1.0), a Content-Encoding profiled does not decode.
// version is 10 or 11; content_length is what the header parser read, if any.
boost::system::result<body_framing, api_error> read_body_framing(const http_request& request, unsigned version,
                                                                 std::optional<std::uint64_t> content_length);

// The origin form (/path?query) of a request target; absolute-form targets (http://host/path) are cut down to it.
std::string origin_form(std::string_view target);

} // namespace profiled
