// Splits an NDJSON stream into its lines as the bytes arrive.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace profiled {

// Why an NDJSON stream was refused. `code` is stable (`line_too_long`);
// `line_number` is the 1-based physical line at fault.
struct ndjson_error {
    std::string code;
    std::string message;
    std::uint64_t line_number = 0;
};

// Hands each non-blank line of an NDJSON stream to a callback together with
// its physical line number, however the stream is split into chunks. The line
// excludes its `\n` or `\r\n`, and a UTF-8 byte order mark opening the file is
// dropped. Lines that fit in one chunk are passed without copying; only a
// line that straddles chunks is buffered, up to `max_line_bytes`.
// Exceptions thrown by the callback propagate.
class ndjson_line_splitter {
public:
    using line_callback = std::function<void(std::string_view line, std::uint64_t line_number)>;

    static constexpr std::size_t default_max_line_bytes = 1024 * 1024;

    // Prepares to send lines to `on_line`, refusing lines over `max_line_bytes`.
    explicit ndjson_line_splitter(line_callback on_line,
                                  std::size_t max_line_bytes = default_max_line_bytes);

    // Consumes the next piece of the stream.
    void feed(std::string_view chunk);

    // Declares the end of the stream; a last line without a newline counts.
    void finish();

    // The input error met, if any; later input is ignored once set.
    const std::optional<ndjson_error>& error() const noexcept { return error_; }

    // Physical lines seen so far, blank ones included.
    std::uint64_t lines_seen() const noexcept { return line_number_; }

private:
    void complete_line(std::string_view line);
    void fail_too_long();

    line_callback on_line_;
    std::size_t max_line_bytes_;
    std::string partial_;
    std::uint64_t line_number_ = 0;
    bool finished_ = false;
    std::optional<ndjson_error> error_;
};

} // namespace profiled
