#include "common/formats/ndjson_reader.hpp"

#include <cstring>
#include <utility>

namespace profiled {

namespace {

constexpr std::string_view utf8_bom = "\xEF\xBB\xBF";

// Blank lines are skipped; JSON's own whitespace is what makes a line blank.
bool is_blank(std::string_view line) {
    return line.find_first_not_of(" \t\r") == std::string_view::npos;
}

} // namespace

ndjson_line_splitter::ndjson_line_splitter(line_callback on_line, std::size_t max_line_bytes)
    : on_line_(std::move(on_line)), max_line_bytes_(max_line_bytes) {}

void ndjson_line_splitter::feed(std::string_view chunk) {
    if (error_ || finished_) return;
    while (!chunk.empty()) {
        const void* nl_ptr = std::memchr(chunk.data(), '\n', chunk.size());
        // Spare bytes the line's length does not count: the CR of a CRLF, and on the
        // first line the byte order mark that complete_line drops.
        std::size_t spare = 1 + (line_number_ == 0 ? utf8_bom.size() : 0);
        if (!nl_ptr) {
            if (partial_.size() + chunk.size() > max_line_bytes_ + spare) {
                fail_too_long();
                return;
            }
            partial_.append(chunk);
            return;
        }
        std::size_t nl = static_cast<std::size_t>(static_cast<const char*>(nl_ptr) - chunk.data());
        if (partial_.empty()) {
            complete_line(chunk.substr(0, nl));
        } else {
            if (partial_.size() + nl > max_line_bytes_ + spare) {
                fail_too_long();
                return;
            }
            partial_.append(chunk.substr(0, nl));
            complete_line(partial_);
            partial_.clear();
        }
        if (error_) return;
        chunk.remove_prefix(nl + 1);
    }
}

void ndjson_line_splitter::finish() {
    if (error_ || finished_) return;
    finished_ = true;
    if (!partial_.empty()) {
        complete_line(partial_);
        partial_.clear();
    }
}

// Numbers, trims and length-checks one physical line, then passes it on.
void ndjson_line_splitter::complete_line(std::string_view line) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    // Windows editors like to open UTF-8 files with a byte order mark.
    if (line_number_ == 0 && line.starts_with(utf8_bom)) line.remove_prefix(utf8_bom.size());
    if (line.size() > max_line_bytes_) {
        fail_too_long();
        return;
    }
    ++line_number_;
    if (!is_blank(line)) on_line_(line, line_number_);
}

// Records that the line being read is over the limit.
void ndjson_line_splitter::fail_too_long() {
    std::uint64_t at = line_number_ + 1;
    error_ = ndjson_error{"line_too_long",
                          "line " + std::to_string(at) + " is longer than " +
                              std::to_string(max_line_bytes_) + " bytes",
                          at};
}

} // namespace profiled
