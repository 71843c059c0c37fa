#include "common/formats/multipart_parser.hpp"

#include "common/formats/utf8.hpp"

#include <algorithm>
#include <cstring>
#include <functional>
#include <utility>
#include <vector>

namespace profiled {

namespace {

// RFC 2046 caps a boundary at 70 characters.
constexpr std::size_t max_boundary_length = 70;

struct parameter {
    std::string_view name;
    std::string value;
};

// Tells header whitespace apart from everything else.
bool is_space(char c) { return c == ' ' || c == '\t'; }

// Drops leading and trailing spaces and tabs.
std::string_view trim(std::string_view s) {
    while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
    return s;
}

// Compares ASCII text ignoring case, as header names and media types require.
bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        char x = a[i], y = b[i];
        if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
        if (x != y) return false;
    }
    return true;
}

// Splits the `; name=value` list that follows a media type or disposition
// type; nullopt when it is not well formed (e.g. an unterminated quote).
std::optional<std::vector<parameter>> parse_parameters(std::string_view s) {
    std::vector<parameter> out;
    std::size_t i = 0;
    auto skip_space = [&] {
        while (i < s.size() && is_space(s[i])) ++i;
    };
    for (;;) {
        skip_space();
        if (i == s.size()) return out;
        if (s[i] != ';') return std::nullopt;
        ++i;
        skip_space();
        if (i == s.size()) return out; // a trailing ';' is harmless
        std::size_t name_begin = i;
        while (i < s.size() && s[i] != '=' && s[i] != ';' && !is_space(s[i])) ++i;
        parameter p{s.substr(name_begin, i - name_begin), {}};
        if (p.name.empty()) return std::nullopt;
        skip_space();
        if (i < s.size() && s[i] == '=') {
            ++i;
            skip_space();
            if (i < s.size() && s[i] == '"') {
                ++i;
                bool closed = false;
                while (i < s.size()) {
                    char c = s[i++];
                    if (c == '"') {
                        closed = true;
                        break;
                    }
                    // curl escapes '"' and '\' in filenames this way (RFC 2616 quoted-pair).
                    if (c == '\\' && i < s.size()) c = s[i++];
                    p.value.push_back(c);
                }
                if (!closed) return std::nullopt;
            } else {
                std::size_t value_begin = i;
                while (i < s.size() && s[i] != ';') ++i;
                p.value = std::string(trim(s.substr(value_begin, i - value_begin)));
            }
        }
        out.push_back(std::move(p));
    }
}

// Finds the first parameter called `name`, ignoring case.
const parameter* find_parameter(const std::vector<parameter>& params, std::string_view name) {
    for (const auto& p : params) {
        if (iequals(p.name, name)) return &p;
    }
    return nullptr;
}

// Where content can safely stop being released in a window that holds no
// whole delimiter: the start of a trailing partial delimiter (with its
// optional CR), or a lone trailing CR that may still become one.
std::size_t hold_point(std::string_view window, std::string_view needle) {
    std::size_t from = window.size() >= needle.size() ? window.size() - needle.size() + 1 : 0;
    for (std::size_t q = window.find('\n', from); q != std::string_view::npos;
         q = window.find('\n', q + 1)) {
        if (needle.starts_with(window.substr(q))) {
            return (q > 0 && window[q - 1] == '\r') ? q - 1 : q;
        }
    }
    if (!window.empty() && window.back() == '\r') return window.size() - 1;
    return window.size();
}

} // namespace

std::optional<std::string> multipart_boundary(std::string_view content_type) {
    std::size_t semi = content_type.find(';');
    if (!iequals(trim(content_type.substr(0, semi)), "multipart/form-data")) return std::nullopt;
    if (semi == std::string_view::npos) return std::nullopt;
    auto params = parse_parameters(content_type.substr(semi));
    if (!params) return std::nullopt;
    const parameter* boundary = find_parameter(*params, "boundary");
    if (!boundary || boundary->value.empty() || boundary->value.size() > max_boundary_length) {
        return std::nullopt;
    }
    // Control characters could never match a delimiter line sanely.
    for (unsigned char c : boundary->value) {
        if (c < 0x20 || c == 0x7f) return std::nullopt;
    }
    return boundary->value;
}

// The delimiter as it appears in the body and its searcher, kept on the heap
// because the searcher points into the needle and must survive moves.
struct multipart_parser::delimiter_search {
    std::string needle;
    std::boyer_moore_horspool_searcher<std::string::const_iterator> searcher;

    explicit delimiter_search(std::string n)
        : needle(std::move(n)), searcher(needle.cbegin(), needle.cend()) {}
};

multipart_parser::multipart_parser(std::string boundary, std::string target_name, sink content,
                                   std::size_t max_header_bytes)
    // Bare LF is accepted too, so the needle starts at the LF; a CR before it
    // is trimmed off the content when the delimiter is found.
    : delimiter_(std::make_unique<delimiter_search>("\n--" + boundary)),
      target_name_(std::move(target_name)),
      content_(std::move(content)),
      max_header_bytes_(max_header_bytes),
      // The first boundary may open the body with no line break before it.
      carry_("\n") {}

multipart_parser::~multipart_parser() = default;
multipart_parser::multipart_parser(multipart_parser&&) noexcept = default;
multipart_parser& multipart_parser::operator=(multipart_parser&&) noexcept = default;

void multipart_parser::feed(std::string_view chunk) {
    while (!chunk.empty() && !error_ && !finished_) {
        if (carry_.empty()) {
            // Common case: work straight on the caller's buffer and keep only
            // an undecidable tail.
            std::size_t used = process(chunk);
            if (!error_) carry_.assign(chunk.substr(used));
            return;
        }
        // Join the tail with just enough new input to decide it, so the
        // copy stays small whatever the chunk size.
        std::size_t take = std::min(chunk.size(), delimiter_->needle.size() + 64);
        carry_.append(chunk.substr(0, take));
        chunk.remove_prefix(take);
        std::size_t used = process(carry_);
        carry_.erase(0, used);
    }
}

void multipart_parser::finish() {
    if (error_ || finished_) return;
    finished_ = true;
    switch (state_) {
    case state::epilogue:
        if (!found_target_) {
            fail("missing_file_part", "the multipart body has no part named \"" + target_name_ + "\"");
        }
        break;
    case state::preamble:
        fail("malformed_multipart",
             "the multipart body never contains the boundary given in Content-Type");
        break;
    default:
        fail("malformed_multipart", "the multipart body ends before its closing boundary");
        break;
    }
}

// Runs the state machine over `window` until it needs more input; returns
// how many bytes it consumed.
std::size_t multipart_parser::process(std::string_view window) {
    std::size_t pos = 0;
    while (pos < window.size() && !error_) {
        std::string_view rest = window.substr(pos);
        state before = state_;
        std::size_t used = 0;
        switch (state_) {
        case state::preamble: used = scan_for_delimiter(rest, false); break;
        case state::content: used = scan_for_delimiter(rest, in_target_); break;
        case state::after_delimiter: used = read_after_delimiter(rest); break;
        case state::delimiter_padding: used = read_delimiter_padding(rest); break;
        case state::headers: used = read_headers(rest); break;
        case state::epilogue: used = rest.size(); break;
        }
        if (used == 0 && state_ == before) break;
        pos += used;
    }
    return pos;
}

// Looks for the next delimiter, releasing the bytes before it to the sink
// when `emit` is set; returns the bytes consumed.
std::size_t multipart_parser::scan_for_delimiter(std::string_view window, bool emit) {
    const std::string& needle = delimiter_->needle;
    // Right after the part headers the window starts at the blank line's LF,
    // which doubles as the delimiter's line break for an empty part.
    std::size_t skip = (state_ == state::content && content_start_) ? 1 : 0;
    auto found = std::search(window.begin(), window.end(), delimiter_->searcher);
    if (found != window.end()) {
        std::size_t at = static_cast<std::size_t>(found - window.begin());
        std::size_t end = at;
        if (end > skip && window[end - 1] == '\r') --end;
        if (emit && end > skip && content_) content_(window.substr(skip, end - skip));
        content_start_ = false;
        in_target_ = false;
        state_ = state::after_delimiter;
        return at + needle.size();
    }
    std::size_t hold = hold_point(window, needle);
    if (hold == 0) return 0;
    if (emit && hold > skip && content_) content_(window.substr(skip, hold - skip));
    content_start_ = false;
    return hold;
}

// Tells a closing delimiter (`--`) from one that opens another part.
std::size_t multipart_parser::read_after_delimiter(std::string_view window) {
    if (window[0] != '-') {
        state_ = state::delimiter_padding;
        return 0;
    }
    if (window.size() < 2) return 0;
    if (window[1] != '-') {
        fail("malformed_multipart", "unexpected characters after a boundary");
        return 0;
    }
    state_ = state::epilogue;
    return 2;
}

// Skips RFC 2046 transport padding up to the end of the boundary line.
std::size_t multipart_parser::read_delimiter_padding(std::string_view window) {
    std::size_t i = 0;
    while (i < window.size() && is_space(window[i])) ++i;
    if (i == window.size()) return i;
    std::size_t line_end = 0;
    if (window[i] == '\n') {
        line_end = i + 1;
    } else if (window[i] == '\r') {
        if (i + 1 == window.size()) return i;
        if (window[i + 1] == '\n') line_end = i + 2;
    }
    if (line_end == 0) {
        fail("malformed_multipart", "unexpected characters after a boundary");
        return i;
    }
    state_ = state::headers;
    header_bytes_ = 0;
    header_line_.clear();
    content_disposition_.clear();
    has_content_disposition_ = false;
    folding_content_disposition_ = false;
    return line_end;
}

// Collects part header lines until the blank line that ends them.
std::size_t multipart_parser::read_headers(std::string_view window) {
    std::size_t pos = 0;
    while (pos < window.size()) {
        const void* nl_ptr = std::memchr(window.data() + pos, '\n', window.size() - pos);
        std::size_t nl = nl_ptr ? static_cast<std::size_t>(static_cast<const char*>(nl_ptr) - window.data())
                                : window.size();
        std::size_t piece = nl - pos + (nl_ptr ? 1 : 0);
        if (header_bytes_ + piece > max_header_bytes_) {
            fail("part_headers_too_large",
                 "the headers of a multipart part exceed " + std::to_string(max_header_bytes_) + " bytes");
            return pos;
        }
        header_bytes_ += piece;
        header_line_.append(window.substr(pos, nl - pos));
        if (!nl_ptr) return window.size();
        if (!header_line_.empty() && header_line_.back() == '\r') header_line_.pop_back();
        if (header_line_.empty()) {
            // Leave the blank line's LF for scan_for_delimiter (see content_start_).
            start_part();
            return nl;
        }
        if (!end_header_line()) return nl;
        header_line_.clear();
        pos = nl + 1;
    }
    return pos;
}

// Takes in one complete header line; only Content-Disposition matters here.
bool multipart_parser::end_header_line() {
    std::string_view line = header_line_;
    if (is_space(line.front())) {
        // Obsolete line folding (RFC 5322) continues the previous header.
        if (folding_content_disposition_) {
            content_disposition_ += ' ';
            content_disposition_ += trim(line);
        }
        return true;
    }
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || trim(line.substr(0, colon)).empty()) {
        fail("malformed_multipart", "a multipart part has a header line without a name");
        return false;
    }
    folding_content_disposition_ = false;
    if (iequals(trim(line.substr(0, colon)), "content-disposition") && !has_content_disposition_) {
        has_content_disposition_ = true;
        folding_content_disposition_ = true;
        content_disposition_ = trim(line.substr(colon + 1));
    }
    return true;
}

// Decides from the finished headers whether the part is the one to stream.
void multipart_parser::start_part() {
    // RFC 7578 4.2: every part carries `Content-Disposition: form-data; name=...`.
    if (!has_content_disposition_) {
        fail("malformed_multipart", "a multipart part has no Content-Disposition header");
        return;
    }
    std::string_view disposition = content_disposition_;
    std::size_t semi = disposition.find(';');
    auto params = parse_parameters(semi == std::string_view::npos ? std::string_view{}
                                                                  : disposition.substr(semi));
    const parameter* name = params ? find_parameter(*params, "name") : nullptr;
    if (!iequals(trim(disposition.substr(0, semi)), "form-data") || !name) {
        fail("malformed_multipart",
             "a multipart part's Content-Disposition is not form-data with a name");
        return;
    }
    // A second target part is refused: its rows cannot replace the first part's, already streamed,
    // and skipping them would drop rows the client sent.
    if (name->value == target_name_ && found_target_) {
        fail("duplicate_file_part", "the multipart body has more than one part named \"" + target_name_ + "\"");
        return;
    }
    if (name->value == target_name_) {
        found_target_ = true;
        in_target_ = true;
        const parameter* filename = find_parameter(*params, "filename");
        // The name is shown back in job objects, so it must be valid UTF-8; it never names a file here.
        if (filename) filename_ = valid_utf8(filename->value);
    }
    state_ = state::content;
    content_start_ = true;
    header_line_.clear();
    content_disposition_.clear();
}

// Records the first input error; the parser ignores input from then on.
void multipart_parser::fail(std::string code, std::string message) {
    if (!error_) error_ = multipart_error{std::move(code), std::move(message)};
}

} // namespace profiled
