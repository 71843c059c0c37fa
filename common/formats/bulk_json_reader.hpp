// Streams the rows out of a `{"users": [...]}` style JSON body without ever
// building the document.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace profiled {

// Why a bulk JSON body was refused. `code` is stable and meant for API
// clients: `invalid_json`, `missing_array`, `too_deep`, `row_too_large`,
// `duplicate_key`.
// `offset` is the byte offset at or shortly before the fault (input is
// checked in small slices, so it may be up to one slice early).
struct bulk_json_error {
    std::string code;
    std::string message;
    std::uint64_t offset = 0;
};

// Parses a JSON body chunk by chunk and hands each element of the top-level
// array under `array_key` to a callback as one compact JSON text with no
// newline in it, i.e. a ready NDJSON line. Strings are re-escaped and numbers
// keep their source text, so a row parses back to the same value. Elements
// of any type are passed on (validation of rows happens later); other keys
// are skipped. A repeat of `array_key` is an error: elsewhere a repeated key's
// last value wins, but the first array's rows have been handed on by then.
// Rows go out as soon as they are complete, so an error met later means the
// rows already received belong to a body that was refused. Exceptions thrown
// by the callback propagate and leave the reader unusable.
class bulk_json_reader {
public:
    using row_callback = std::function<void(std::string_view row_json)>;

    static constexpr std::size_t default_max_depth = 32;
    static constexpr std::size_t default_max_row_bytes = 1024 * 1024;

    // Prepares to read rows of `array_key`. `max_depth` bounds the nesting of
    // the whole document (the top-level object is depth 1, a row object
    // depth 3); `max_row_bytes` bounds one re-serialised row.
    bulk_json_reader(std::string array_key, row_callback on_row,
                     std::size_t max_depth = default_max_depth,
                     std::size_t max_row_bytes = default_max_row_bytes);
    ~bulk_json_reader();
    bulk_json_reader(bulk_json_reader&&) noexcept;
    bulk_json_reader& operator=(bulk_json_reader&&) noexcept;

    // Consumes the next piece of the body.
    void feed(std::string_view chunk);

    // Declares the end of the body and checks that it held the array.
    void finish();

    // The first input error met, if any; later input is ignored once set.
    const std::optional<bulk_json_error>& error() const noexcept;

    // Rows handed to the callback so far.
    std::uint64_t rows_emitted() const noexcept;

private:
    struct state;
    std::unique_ptr<state> state_;
};

} // namespace profiled
