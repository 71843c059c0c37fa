#include "common/formats/bulk_json_reader.hpp"

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/error.hpp>
#include <boost/json/parse_options.hpp>

#include <algorithm>
#include <utility>

namespace profiled {

namespace json = boost::json;

namespace {

// Errors are located to within one slice; small slices keep the reported
// offset useful at a negligible cost in parser resumptions.
constexpr std::size_t slice_bytes = 4096;

// Which of our own limits stopped the parser, as opposed to a syntax error.
enum class limit_hit { none, too_deep, row_too_large, duplicate_key };

enum class value_kind { object, array, scalar };

// Appends `s` as the inside of a JSON string literal, escaping the way
// Boost.JSON's serializer does.
void append_escaped(std::string& out, std::string_view s) {
    static constexpr char hex[] = "0123456789abcdef";
    std::size_t run = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
        auto c = static_cast<unsigned char>(s[i]);
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        out.append(s.data() + run, i - run);
        run = i + 1;
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            out += "\\u00";
            out += hex[c >> 4];
            out += hex[c & 0xf];
            break;
        }
    }
    out.append(s.data() + run, s.size() - run);
}

// Boost.JSON hands out its own string_view type.
std::string_view to_std(json::string_view s) { return {s.data(), s.size()}; }

// SAX handler for json::basic_parser: tracks where in the document it is and
// rebuilds each element of the wanted array as compact text.
class row_rewriter {
public:
    static constexpr std::size_t max_object_size = std::size_t(-1);
    static constexpr std::size_t max_array_size = std::size_t(-1);
    static constexpr std::size_t max_key_size = std::size_t(-1);
    static constexpr std::size_t max_string_size = std::size_t(-1);

    // Sets up the handler for one document.
    row_rewriter(std::string array_key, bulk_json_reader::row_callback on_row,
                 std::size_t max_depth, std::size_t max_row_bytes)
        : array_key_(std::move(array_key)),
          on_row_(std::move(on_row)),
          max_depth_(max_depth),
          max_row_bytes_(max_row_bytes) {}

    // Nothing to do at document boundaries.
    bool on_document_begin(json::error_code&) { return true; }
    // Nothing to do at document boundaries.
    bool on_document_end(json::error_code&) { return true; }

    // Enters an object.
    bool on_object_begin(json::error_code& ec) { return open('{', value_kind::object, ec); }
    // Leaves an object.
    bool on_object_end(std::size_t, json::error_code& ec) { return close('}', ec); }
    // Enters an array.
    bool on_array_begin(json::error_code& ec) { return open('[', value_kind::array, ec); }
    // Leaves an array.
    bool on_array_end(std::size_t, json::error_code& ec) { return close(']', ec); }

    // Takes a piece of a key that continues in the next input chunk.
    bool on_key_part(json::string_view s, std::size_t, json::error_code& ec) {
        return key_piece(to_std(s), false, ec);
    }
    // Takes the last piece of a key.
    bool on_key(json::string_view s, std::size_t, json::error_code& ec) {
        return key_piece(to_std(s), true, ec);
    }
    // Takes a piece of a string value that continues in the next input chunk.
    bool on_string_part(json::string_view s, std::size_t, json::error_code& ec) {
        return string_piece(to_std(s), false, ec);
    }
    // Takes the last piece of a string value.
    bool on_string(json::string_view s, std::size_t, json::error_code& ec) {
        return string_piece(to_std(s), true, ec);
    }
    // Takes a piece of a number's source text.
    bool on_number_part(json::string_view s, json::error_code& ec) {
        return number_piece(to_std(s), false, ec);
    }
    // Ends an integer; only its source text is kept.
    bool on_int64(std::int64_t, json::string_view s, json::error_code& ec) {
        return number_piece(to_std(s), true, ec);
    }
    // Ends an unsigned integer; only its source text is kept.
    bool on_uint64(std::uint64_t, json::string_view s, json::error_code& ec) {
        return number_piece(to_std(s), true, ec);
    }
    // Ends a floating point number; its source text survives where a
    // re-printed double would not (e.g. 1e400 would become "Infinity").
    bool on_double(double, json::string_view s, json::error_code& ec) {
        return number_piece(to_std(s), true, ec);
    }
    // Takes true or false.
    bool on_bool(bool b, json::error_code& ec) { return literal(b ? "true" : "false", ec); }
    // Takes null.
    bool on_null(json::error_code& ec) { return literal("null", ec); }
    // Comments are disabled in the parse options, so these never fire.
    bool on_comment_part(json::string_view, json::error_code&) { return true; }
    // Comments are disabled in the parse options, so these never fire.
    bool on_comment(json::string_view, json::error_code&) { return true; }

    // Which of our limits stopped the parse, if one did.
    limit_hit limit() const noexcept { return limit_; }
    // Whether the document's top level was an object at all.
    bool top_is_object() const noexcept { return top_is_object_; }
    // Whether the wanted key was present at the top level.
    bool key_seen() const noexcept { return key_seen_; }
    // Whether the wanted key's first value was an array.
    bool key_is_array() const noexcept { return key_is_array_; }
    // Rows sent to the callback so far.
    std::uint64_t rows() const noexcept { return rows_; }
    // The key being looked for.
    const std::string& array_key() const noexcept { return array_key_; }

private:
    // Notes where a new value starts and, inside a row, writes the comma in
    // front of it. Returns whether the value belongs to a row.
    bool start_value(value_kind kind) {
        if (depth_ == 0) {
            top_is_object_ = kind == value_kind::object;
            return false;
        }
        if (depth_ == 1 && value_is_target_) {
            value_is_target_ = false;
            key_seen_ = true;
            key_is_array_ = kind == value_kind::array;
            entering_array_ = key_is_array_;
            return false;
        }
        if (!in_array_) return false;
        if (depth_ == 2) {
            row_.clear();
            need_comma_ = false;
        }
        if (need_comma_) row_ += ',';
        return true;
    }

    // Opens an object or array, enforcing the depth limit.
    bool open(char bracket, value_kind kind, json::error_code& ec) {
        if (depth_ >= max_depth_) return hit(limit_hit::too_deep, ec);
        bool in_row = start_value(kind);
        ++depth_;
        if (entering_array_) {
            entering_array_ = false;
            in_array_ = true;
        }
        if (!in_row) return true;
        row_ += bracket;
        need_comma_ = false;
        return fits(ec);
    }

    // Closes an object or array; closing a row's outermost value emits it.
    bool close(char bracket, json::error_code& ec) {
        --depth_;
        if (!in_array_) return true;
        if (depth_ == 1) {
            in_array_ = false; // the wanted array itself ended
            return true;
        }
        row_ += bracket;
        need_comma_ = true;
        if (!fits(ec)) return false;
        if (depth_ == 2) emit();
        return true;
    }

    // Copies keys inside rows; at the top level compares them with array_key_.
    bool key_piece(std::string_view s, bool last, json::error_code& ec) {
        if (in_array_) {
            if (!in_key_) {
                in_key_ = true;
                if (need_comma_) row_ += ',';
                row_ += '"';
            }
            append_escaped(row_, s);
            if (last) {
                in_key_ = false;
                row_ += "\":";
                need_comma_ = false;
            }
            return fits(ec);
        }
        if (depth_ == 1 && top_is_object_) {
            if (!in_key_) {
                in_key_ = true;
                key_.clear();
            }
            // One byte past the wanted key's length is enough to tell a mismatch.
            if (key_.size() <= array_key_.size()) key_.append(s.substr(0, array_key_.size() + 1 - key_.size()));
            if (last) {
                in_key_ = false;
                // Rows of the first array are already gone, so "the last one wins" cannot hold here.
                if (key_seen_ && key_ == array_key_) return hit(limit_hit::duplicate_key, ec);
                value_is_target_ = key_ == array_key_;
            }
        }
        return true;
    }

    // Copies a string value, escaped, when it is part of a row.
    bool string_piece(std::string_view s, bool last, json::error_code& ec) {
        if (!in_string_) {
            in_string_ = true;
            scalar_in_row_ = start_value(value_kind::scalar);
            if (scalar_in_row_) row_ += '"';
        }
        if (scalar_in_row_) append_escaped(row_, s);
        if (!last) return !scalar_in_row_ || fits(ec);
        in_string_ = false;
        if (!scalar_in_row_) return true;
        row_ += '"';
        return end_scalar(ec);
    }

    // Copies a number's source text when it is part of a row.
    bool number_piece(std::string_view s, bool last, json::error_code& ec) {
        if (!in_number_) {
            in_number_ = true;
            scalar_in_row_ = start_value(value_kind::scalar);
        }
        if (scalar_in_row_) row_.append(s);
        if (!last) return !scalar_in_row_ || fits(ec);
        in_number_ = false;
        if (!scalar_in_row_) return true;
        return end_scalar(ec);
    }

    // Copies true, false or null when it is part of a row.
    bool literal(std::string_view text, json::error_code& ec) {
        if (!start_value(value_kind::scalar)) return true;
        row_ += text;
        return end_scalar(ec);
    }

    // Finishes a scalar inside a row; a bare scalar element is a row by itself.
    bool end_scalar(json::error_code& ec) {
        need_comma_ = true;
        if (!fits(ec)) return false;
        if (depth_ == 2) emit();
        return true;
    }

    // Checks the row being built against the size limit.
    bool fits(json::error_code& ec) {
        if (row_.size() <= max_row_bytes_) return true;
        return hit(limit_hit::row_too_large, ec);
    }

    // Stops the parser because one of our limits was reached.
    bool hit(limit_hit which, json::error_code& ec) {
        limit_ = which;
        // Any failing code stops basic_parser; limit_ says which limit it was.
        ec = which == limit_hit::too_deep ? json::error::too_deep : json::error::string_too_large;
        return false;
    }

    // Hands a finished row to the callback.
    void emit() {
        ++rows_;
        on_row_(row_);
        row_.clear();
    }

    std::string array_key_;
    bulk_json_reader::row_callback on_row_;
    std::size_t max_depth_;
    std::size_t max_row_bytes_;

    std::size_t depth_ = 0;
    bool top_is_object_ = false;
    std::string key_;
    bool value_is_target_ = false;
    bool key_seen_ = false;
    bool key_is_array_ = false;
    bool entering_array_ = false;
    bool in_array_ = false;

    std::string row_;
    bool need_comma_ = false;
    bool in_key_ = false;
    bool in_string_ = false;
    bool in_number_ = false;
    bool scalar_in_row_ = false;
    std::uint64_t rows_ = 0;
    limit_hit limit_ = limit_hit::none;
};

// Strict JSON; Boost's own depth guard sits one level past ours so that ours
// is the one that reports.
json::parse_options options_for(std::size_t max_depth) {
    json::parse_options opt;
    opt.max_depth = max_depth + 1;
    return opt;
}

} // namespace

struct bulk_json_reader::state {
    json::basic_parser<row_rewriter> parser;
    std::uint64_t offset = 0;
    bool finished = false;
    std::optional<bulk_json_error> error;

    state(std::string array_key, row_callback on_row, std::size_t max_depth, std::size_t max_row_bytes)
        : parser(options_for(max_depth), std::move(array_key), std::move(on_row), max_depth,
                 max_row_bytes) {}

    // Turns a stopped parse into the error clients see.
    void fail_from(const json::error_code& ec, std::uint64_t at) {
        switch (parser.handler().limit()) {
        case limit_hit::too_deep:
            error = bulk_json_error{"too_deep", "the JSON body is nested deeper than allowed", at};
            return;
        case limit_hit::row_too_large:
            error = bulk_json_error{
                "row_too_large",
                "an element of \"" + parser.handler().array_key() + "\" is larger than allowed", at};
            return;
        case limit_hit::duplicate_key:
            error = bulk_json_error{"duplicate_key",
                                    "the JSON body holds \"" + parser.handler().array_key() +
                                        "\" more than once; send all rows in one array",
                                    at};
            return;
        case limit_hit::none:
            break;
        }
        error = bulk_json_error{"invalid_json",
                                "invalid JSON at or after byte " + std::to_string(at) + ": " + ec.message(),
                                at};
    }
};

bulk_json_reader::bulk_json_reader(std::string array_key, row_callback on_row, std::size_t max_depth,
                                   std::size_t max_row_bytes)
    : state_(std::make_unique<state>(std::move(array_key), std::move(on_row), max_depth, max_row_bytes)) {}

bulk_json_reader::~bulk_json_reader() = default;
bulk_json_reader::bulk_json_reader(bulk_json_reader&&) noexcept = default;
bulk_json_reader& bulk_json_reader::operator=(bulk_json_reader&&) noexcept = default;

void bulk_json_reader::feed(std::string_view chunk) {
    state& s = *state_;
    while (!chunk.empty() && !s.error && !s.finished) {
        std::size_t size = std::min(chunk.size(), slice_bytes);
        json::error_code ec;
        std::size_t used = s.parser.write_some(true, chunk.data(), size, ec);
        if (ec) {
            s.fail_from(ec, s.offset);
            return;
        }
        if (used < size) {
            // basic_parser stops, without an error, at the first byte that
            // follows a complete document.
            s.error = bulk_json_error{"invalid_json",
                                     "unexpected data after the JSON document at byte " +
                                         std::to_string(s.offset + used),
                                     s.offset + used};
            return;
        }
        s.offset += size;
        chunk.remove_prefix(size);
    }
}

void bulk_json_reader::finish() {
    state& s = *state_;
    if (s.error || s.finished) return;
    s.finished = true;
    static constexpr char nothing[1] = {};
    json::error_code ec;
    s.parser.write_some(false, nothing, 0, ec);
    if (ec) {
        s.fail_from(ec, s.offset);
        return;
    }
    const row_rewriter& h = s.parser.handler();
    const std::string& key = h.array_key();
    if (!h.top_is_object()) {
        s.error = bulk_json_error{"missing_array", "the JSON body must be an object with a \"" + key +
                                                       "\" array", 0};
    } else if (!h.key_seen()) {
        s.error = bulk_json_error{"missing_array", "the JSON body has no \"" + key + "\" key", 0};
    } else if (!h.key_is_array()) {
        s.error = bulk_json_error{"missing_array", "\"" + key + "\" must be an array", 0};
    }
}

const std::optional<bulk_json_error>& bulk_json_reader::error() const noexcept { return state_->error; }

std::uint64_t bulk_json_reader::rows_emitted() const noexcept { return state_->parser.handler().rows(); }

} // namespace profiled
