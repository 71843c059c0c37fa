// Streaming multipart/form-data parser (RFC 7578 over RFC 2046) that pulls
// one named part's content out of an upload without holding the body.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace profiled {

// Returns the boundary of a `multipart/form-data` Content-Type value, or
// nullopt when the type is something else or the boundary is absent, empty,
// longer than RFC 2046's 70 characters or holds control characters.
std::optional<std::string> multipart_boundary(std::string_view content_type);

// Why a multipart body was refused. `code` is stable and meant for API
// clients: `malformed_multipart`, `missing_file_part`, `duplicate_file_part`,
// `part_headers_too_large`.
struct multipart_error {
    std::string code;
    std::string message;
};

// Feeds an upload through in arbitrary pieces and streams the content of the
// part named `target_name` to a sink; every other part is discarded, and a
// second part with the target name is an error.
// Holds back at most a delimiter's length of content (plus the current part's
// headers, capped by `max_header_bytes`), so memory stays flat for any body.
// Input errors end up in error(); exceptions thrown by the sink propagate and
// leave the parser unusable.
class multipart_parser {
public:
    using sink = std::function<void(std::string_view)>;

    static constexpr std::size_t default_max_header_bytes = 8 * 1024;

    // Prepares to parse a body delimited by `boundary` (as from
    // multipart_boundary) and to send part `target_name`'s content to `content`.
    multipart_parser(std::string boundary, std::string target_name, sink content,
                     std::size_t max_header_bytes = default_max_header_bytes);
    ~multipart_parser();
    multipart_parser(multipart_parser&&) noexcept;
    multipart_parser& operator=(multipart_parser&&) noexcept;

    // Consumes the next piece of the body; pieces may split anything anywhere.
    void feed(std::string_view chunk);

    // Declares the end of the body and checks that it was complete.
    void finish();

    // The first input error met, if any; later input is ignored once set.
    const std::optional<multipart_error>& error() const noexcept { return error_; }

    // Whether the target part's headers have been seen.
    bool found_target() const noexcept { return found_target_; }

    // The target part's `filename` parameter (ill-formed UTF-8 replaced by U+FFFD), empty if it had none.
    const std::string& filename() const noexcept { return filename_; }

private:
    enum class state { preamble, after_delimiter, delimiter_padding, headers, content, epilogue };
    struct delimiter_search;

    std::size_t process(std::string_view window);
    std::size_t scan_for_delimiter(std::string_view window, bool emit);
    std::size_t read_after_delimiter(std::string_view window);
    std::size_t read_delimiter_padding(std::string_view window);
    std::size_t read_headers(std::string_view window);
    bool end_header_line();
    void start_part();
    void fail(std::string code, std::string message);

    std::unique_ptr<delimiter_search> delimiter_;
    std::string target_name_;
    sink content_;
    std::size_t max_header_bytes_;

    state state_ = state::preamble;
    std::string carry_;
    std::string header_line_;
    std::string content_disposition_;
    bool has_content_disposition_ = false;
    bool folding_content_disposition_ = false;
    bool content_start_ = false;
    std::size_t header_bytes_ = 0;
    bool in_target_ = false;
    bool found_target_ = false;
    bool finished_ = false;
    std::string filename_;
    std::optional<multipart_error> error_;
};

} // namespace profiled
