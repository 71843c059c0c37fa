#include "daemon/http/request_framing.hpp"

#include <boost/url/parse.hpp>
#include <fmt/format.h>

namespace profiled {

namespace {

// s without spaces and tabs at either end.
std::string_view trimmed(std::string_view s)
{
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    return s;
}

// True when a and b are equal ignoring ASCII case.
bool same_word(std::string_view a, std::string_view b)
{
    if (a.size() != b.size())
        return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
            return false;
    }
    return true;
}

// The refusal of a Transfer-Encoding.
api_error bad_transfer_encoding(std::string message)
{
    return {errc::bad_request, "unsupported_transfer_encoding", std::move(message), {}};
}

} // namespace

boost::system::result<body_framing, api_error> read_body_framing(const http_request& request, unsigned version,
                                                                 std::optional<std::uint64_t> content_length)
{
    std::size_t hosts = 0, transfer_encodings = 0;
    std::string_view transfer_encoding;
    for (const auto& [name, value] : request.headers) {
        if (name == "host") {
            ++hosts;
        } else if (name == "transfer-encoding") {
            ++transfer_encodings;
            transfer_encoding = value;
        } else if (name == "content-encoding" && !same_word(trimmed(value), "identity")) {
            return api_error{errc::unsupported_media_type, "unsupported_content_encoding",
                             fmt::format("Content-Encoding {} is not supported; send the body uncompressed",
                                         trimmed(value)),
                             {}};
        }
    }
    if (hosts > 1 || (version >= 11 && hosts == 0))
        return api_error{errc::bad_request, "invalid_host",
                         hosts == 0 ? "an HTTP/1.1 request needs a Host header" : "a request may have one Host header",
                         {}};
    body_framing framing;
    if (transfer_encodings > 0) {
        // Anything but a lone "chunked" would leave the body's end to guesswork, which is how requests are smuggled.
        if (version < 11)
            return bad_transfer_encoding("Transfer-Encoding is not allowed in HTTP/1.0");
        if (transfer_encodings > 1 || !same_word(trimmed(transfer_encoding), "chunked"))
            return bad_transfer_encoding("Transfer-Encoding must be exactly \"chunked\"");
        if (content_length)
            return bad_transfer_encoding("Transfer-Encoding and Content-Length must not both be sent");
        framing.chunked = true;
        return framing;
    }
    framing.content_length = content_length.value_or(0);
    return framing;
}

std::string origin_form(std::string_view target)
{
    if (target.empty() || target.front() == '/')
        return std::string(target);
    auto uri = boost::urls::parse_absolute_uri(target);
    if (!uri || (uri->scheme_id() != boost::urls::scheme::http && uri->scheme_id() != boost::urls::scheme::https))
        return std::string(target);
    std::string out(uri->encoded_path());
    if (out.empty())
        out = "/";
    if (uri->has_query())
        out += "?" + std::string(uri->encoded_query());
    return out;
}

} // namespace profiled
