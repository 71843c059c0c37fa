// The fuzzed entry points: each feeds one input to a part of common/ (or daemon/) and checks what must hold for
// any input. Shared by the libFuzzer targets (tests/fuzz/*_fuzz.cpp) and the regression replay
// (tests/unit/fuzz_regressions_test.cpp), so a crashing input is replayed through the same code.
// Header-only; the HTTP request entry point (http_request_entry.hpp) needs daemon/http/chunked_decoder.cpp.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "common/formats/bulk_json_reader.hpp"
#include "common/formats/multipart_parser.hpp"
#include "common/formats/ndjson_reader.hpp"
#include "common/formats/utf8.hpp"
#include "common/profiles/people_operations.hpp"
#include "common/profiles/people_requests.hpp"
#include "common/profiles/requests.hpp"
#include "common/profiles/users_requests.hpp"
#include "tests/fuzz/http_request_entry.hpp"

namespace profiled::fuzz {

// What went wrong with one input, or nothing when every check held.
using finding = std::optional<std::string>;

// The names of the entry points, as used for targets, corpora and regression file prefixes.
inline const std::vector<std::string>& entry_point_names()
{
    static const std::vector<std::string> names{"multipart", "ndjson", "bulk_json", "requests", "people_operations",
                                                 "http_request"};
    return names;
}

// How many bytes go into each feed() when an input is replayed in pieces: 1 to 64, picked by the input.
inline std::size_t piece_size(std::string_view data)
{
    std::uint32_t h = 2166136261u;
    for (unsigned char c : data.substr(0, 16))
        h = (h ^ c) * 16777619u;
    return 1 + h % 64;
}

// Refusals must be input errors with a code and a message, never a 5xx.
inline finding check_api_error(const api_error& e, std::string_view where)
{
    if (e.code.empty() || e.message.empty())
        return std::string(where) + ": an error without a code or message";
    if (e.kind == errc::internal || e.kind == errc::unavailable || e.kind == errc::unreachable ||
        e.kind == errc::insufficient_storage)
        return std::string(where) + ": an input error reported as a server error: " + e.code;
    return std::nullopt;
}

// An id the validators returned must be one the store accepts.
inline finding check_id(std::string_view id, std::string_view where)
{
    if (id.empty() || id.size() > max_id_bytes)
        return std::string(where) + ": an id of " + std::to_string(id.size()) + " bytes was accepted";
    return std::nullopt;
}

// ---- multipart ----

// What one multipart parse produced.
struct multipart_outcome {
    std::string content;
    std::optional<std::string> error_code;
    bool found = false;
    std::string filename;

    bool operator==(const multipart_outcome&) const = default;
};

// Runs body through a parser piece bytes at a time (0 = all at once).
inline multipart_outcome run_multipart(std::string_view body, const std::string& boundary, std::size_t piece)
{
    multipart_outcome out;
    multipart_parser parser(boundary, "file", [&](std::string_view s) { out.content.append(s); }, 256);
    if (piece == 0)
        piece = std::max<std::size_t>(body.size(), 1);
    for (std::size_t at = 0; at < body.size(); at += piece)
        parser.feed(body.substr(at, piece));
    parser.finish();
    if (parser.error())
        out.error_code = parser.error()->code;
    out.found = parser.found_target();
    out.filename = parser.filename();
    return out;
}

// Input: a Content-Type value, a newline, then the body. The result must not depend on how the body
// is split, and the part content can never be larger than the body.
inline finding multipart_entry(std::string_view data)
{
    auto nl = data.find('\n');
    std::string_view content_type = nl == std::string_view::npos ? data : data.substr(0, nl);
    std::string_view body = nl == std::string_view::npos ? std::string_view() : data.substr(nl + 1);
    auto boundary = multipart_boundary(content_type);
    if (boundary && (boundary->empty() || boundary->size() > 70))
        return "multipart_boundary accepted a boundary of " + std::to_string(boundary->size()) + " bytes";
    std::string b = boundary ? *boundary : "b";
    multipart_outcome whole = run_multipart(body, b, 0);
    multipart_outcome pieces = run_multipart(body, b, piece_size(data));
    multipart_outcome bytes = run_multipart(body, b, 1);
    if (!(whole == pieces) || !(whole == bytes))
        return std::string("multipart result depends on how the body is split");
    if (whole.content.size() > body.size())
        return std::string("multipart content larger than the body");
    if (valid_utf8(whole.filename) != whole.filename)
        return std::string("multipart filename is not valid UTF-8");
    if (whole.error_code && whole.error_code->empty())
        return std::string("multipart error without a code");
    return std::nullopt;
}

// ---- ndjson ----

// What one NDJSON split produced.
struct ndjson_outcome {
    std::vector<std::pair<std::string, std::uint64_t>> lines;
    std::optional<std::string> error_code;
    std::uint64_t lines_seen = 0;

    bool operator==(const ndjson_outcome&) const = default;
};

// Runs text through a splitter with a small line limit, piece bytes at a time (0 = all at once).
inline ndjson_outcome run_ndjson(std::string_view text, std::size_t piece)
{
    ndjson_outcome out;
    ndjson_line_splitter splitter(
        [&](std::string_view line, std::uint64_t number) { out.lines.emplace_back(std::string(line), number); }, 64);
    if (piece == 0)
        piece = std::max<std::size_t>(text.size(), 1);
    for (std::size_t at = 0; at < text.size(); at += piece)
        splitter.feed(text.substr(at, piece));
    splitter.finish();
    if (splitter.error())
        out.error_code = splitter.error()->code;
    out.lines_seen = splitter.lines_seen();
    return out;
}

// Input: an NDJSON stream. Lines must not depend on the split, hold no newline, respect the limit and
// come with increasing line numbers.
inline finding ndjson_entry(std::string_view data)
{
    ndjson_outcome whole = run_ndjson(data, 0);
    ndjson_outcome pieces = run_ndjson(data, piece_size(data));
    ndjson_outcome bytes = run_ndjson(data, 1);
    if (!(whole == pieces) || !(whole == bytes))
        return std::string("ndjson lines depend on how the stream is split");
    std::uint64_t last = 0;
    for (const auto& [line, number] : whole.lines) {
        if (line.find('\n') != std::string::npos)
            return std::string("an ndjson line holds a newline");
        if (line.size() > 64)
            return std::string("an ndjson line over the limit was passed on");
        if (number <= last)
            return std::string("ndjson line numbers do not increase");
        last = number;
    }
    return std::nullopt;
}

// Equal values, except that doubles may differ in the last bits: Boost 1.81's parser does not
// round every decimal text to the nearest double, so a double need not survive a text round trip.
inline bool same_value(const boost::json::value& a, const boost::json::value& b)
{
    if (a.is_double() || b.is_double()) {
        if (!a.is_number() || !b.is_number())
            return false;
        double x = a.to_number<double>(), y = b.to_number<double>();
        // Boost 1.81 reads 0e400 as NaN; such numbers are refused by parse_json_object, but the readers
        // that only split rows pass their text on unchanged.
        if (std::isnan(x) || std::isnan(y))
            return std::isnan(x) && std::isnan(y);
        return x == y || std::fabs(x - y) <= 1e-14 * std::max(std::fabs(x), std::fabs(y));
    }
    if (a.is_array() && b.is_array()) {
        const auto &l = a.get_array(), &r = b.get_array();
        if (l.size() != r.size())
            return false;
        for (std::size_t i = 0; i < l.size(); ++i)
            if (!same_value(l[i], r[i]))
                return false;
        return true;
    }
    if (a.is_object() && b.is_object()) {
        const auto &l = a.get_object(), &r = b.get_object();
        if (l.size() != r.size())
            return false;
        for (const auto& [key, value] : l) {
            const auto* other = r.if_contains(key);
            if (!other || !same_value(value, *other))
                return false;
        }
        return true;
    }
    return a == b;
}

// ---- bulk JSON ----

// What one bulk JSON read produced.
struct bulk_json_outcome {
    std::vector<std::string> rows;
    std::optional<std::string> error_code;

    bool operator==(const bulk_json_outcome&) const = default;
};

// Runs body through a reader of "users" rows with small limits, piece bytes at a time (0 = all at once).
inline bulk_json_outcome run_bulk_json(std::string_view body, std::size_t piece)
{
    bulk_json_outcome out;
    bulk_json_reader reader("users", [&](std::string_view row) { out.rows.emplace_back(row); }, 16, 512);
    if (piece == 0)
        piece = std::max<std::size_t>(body.size(), 1);
    for (std::size_t at = 0; at < body.size(); at += piece)
        reader.feed(body.substr(at, piece));
    reader.finish();
    if (reader.error())
        out.error_code = reader.error()->code;
    return out;
}

// Input: a bulk JSON body. Rows must not depend on the split, each must be one line of valid JSON
// within the size limit, and when the body is accepted its rows must equal the array's elements.
inline finding bulk_json_entry(std::string_view data)
{
    bulk_json_outcome whole = run_bulk_json(data, 0);
    bulk_json_outcome pieces = run_bulk_json(data, piece_size(data));
    // Which of two faults is reported may depend on the split: a string cut by the split reaches
    // the row size check before the syntax error behind it is seen. Anything else must not.
    bool same_error = whole.error_code == pieces.error_code ||
                      (whole.error_code && pieces.error_code &&
                       (whole.error_code == "invalid_json" || pieces.error_code == "invalid_json"));
    if (whole.rows != pieces.rows || !same_error)
        return std::string("bulk JSON rows depend on how the body is split");
    boost::json::parse_options deep;
    deep.max_depth = 64;
    std::vector<boost::json::value> parsed_rows;
    for (const auto& row : whole.rows) {
        if (row.find('\n') != std::string::npos || row.find('\r') != std::string::npos)
            return std::string("a bulk JSON row is not one line");
        if (row.size() > 512)
            return std::string("a bulk JSON row over the size limit was passed on");
        boost::system::error_code ec;
        auto v = boost::json::parse(row, ec, {}, deep);
        if (ec)
            return "a bulk JSON row is not valid JSON: " + ec.message();
        parsed_rows.push_back(std::move(v));
    }
    if (whole.error_code)
        return std::nullopt;
    boost::system::error_code ec;
    auto document = boost::json::parse(data, ec, {}, deep);
    if (ec)
        return "the bulk JSON reader accepted a body Boost.JSON refuses: " + ec.message();
    const auto* users = document.is_object() ? document.get_object().if_contains("users") : nullptr;
    if (!users || !users->is_array())
        return std::string("the bulk JSON reader accepted a body without a users array");
    const auto& elements = users->get_array();
    if (elements.size() != parsed_rows.size())
        return std::string("the bulk JSON reader's row count differs from the array's length");
    for (std::size_t i = 0; i < elements.size(); ++i) {
        if (!same_value(elements[i], parsed_rows[i]))
            return "bulk JSON row " + std::to_string(i) + " differs from the array element";
    }
    return std::nullopt;
}

// ---- request validation ----

// Input: a request body. Every validator must refuse with an input error or return ids the store
// accepts; what they return must serialise.
inline finding requests_entry(std::string_view data)
{
    auto body = parse_json_object(data);
    if (!body)
        return check_api_error(body.error(), "parse_json_object");
    const boost::json::object& o = *body;
    // What was accepted gets stored as JSON text, so it must read back.
    boost::json::parse_options deep;
    deep.max_depth = 64;
    boost::system::error_code ec;
    (void)boost::json::parse(boost::json::serialize(o), ec, {}, deep);
    if (ec)
        return "an accepted body does not serialise to valid JSON: " + ec.message();

    boost::json::object copy; // each parser below takes objects out of the body it is given
    if (auto r = parse_identify(copy = o); r) {
        if (auto bad = check_id(r->user.user_id, "identify user_id"))
            return bad;
        if (r->company) {
            if (auto bad = check_id(r->company->company_id, "identify company id"))
                return bad;
            if (r->user.company_id != r->company->company_id)
                return std::string("identify: the user's company_id is not the company's id");
        }
    } else if (auto bad = check_api_error(r.error(), "parse_identify")) {
        return bad;
    }
    if (auto r = parse_company_identify(copy = o); r) {
        if (auto bad = check_id(r->company_id, "companies/identify company_id"))
            return bad;
    } else if (auto bad = check_api_error(r.error(), "parse_company_identify")) {
        return bad;
    }
    if (auto r = parse_bulk_user_row(copy = o); r) {
        if (auto bad = check_id(r->user_id, "bulk user_id"))
            return bad;
        if (r->company_id)
            if (auto bad = check_id(*r->company_id, "bulk company_id"))
                return bad;
        for (const auto& [key, value] : r->properties)
            if (value.is_object() || value.is_array())
                return std::string("a bulk user row kept a non-primitive metadata value");
    } else if (auto bad = check_api_error(r.error(), "parse_bulk_user_row")) {
        return bad;
    }
    if (auto r = parse_bulk_company_row(copy = o); r) {
        if (auto bad = check_id(r->company_id, "bulk company_id"))
            return bad;
        for (const auto& [key, value] : r->properties)
            if (value.is_object() || value.is_array())
                return std::string("a bulk company row kept a non-primitive metadata value");
    } else if (auto bad = check_api_error(r.error(), "parse_bulk_company_row")) {
        return bad;
    }
    if (auto r = parse_users_request(o); r) {
        if (auto bad = check_id(r->user_id, "users user_id"))
            return bad;
    } else if (auto bad = check_api_error(r.error(), "parse_users_request")) {
        return bad;
    }
    if (auto r = body_api_key(o); !r)
        if (auto bad = check_api_error(r.error(), "body_api_key"))
            return bad;
    if (auto r = parse_people_identify(o); r) {
        if (auto bad = check_id(r->distinct_id, "people identify distinct_id"))
            return bad;
    } else if (auto bad = check_api_error(r.error(), "parse_people_identify")) {
        return bad;
    }
    if (auto r = parse_people_set(o); r) {
        if (auto bad = check_id(r->distinct_id, "people set distinct_id"))
            return bad;
    } else if (auto bad = check_api_error(r.error(), "parse_people_set")) {
        return bad;
    }
    if (auto r = parse_alias(o); r) {
        if (auto bad = check_id(r->alias_id, "alias alias_id"))
            return bad;
        if (auto bad = check_id(r->original_id, "alias original_id"))
            return bad;
        if (r->alias_id == r->original_id)
            return std::string("alias accepted the same id twice");
    } else if (auto bad = check_api_error(r.error(), "parse_alias")) {
        return bad;
    }
    return std::nullopt;
}

// ---- people operations ----

// Input: a JSON object {"p": stored properties, "o": operations}. Parsing and applying must refuse
// with an input error or give properties that serialise and parse back equal, the same every time,
// with every $unset name gone, and $email / $phone still valid or null.
inline finding people_operations_entry(std::string_view data)
{
    // Operations and stored properties only ever come from bodies parse_json_object accepted.
    auto v = parse_json_object(data);
    if (!v)
        return std::nullopt;
    const auto& top = *v;
    boost::system::error_code ec;
    boost::json::object stored;
    if (const auto* p = top.if_contains("p"); p && p->is_object())
        stored = p->get_object();
    const auto* o = top.if_contains("o");
    if (!o || !o->is_object())
        return std::nullopt;
    auto ops = parse_people_operations(o->get_object());
    if (!ops)
        return check_api_error(ops.error(), "parse_people_operations");
    auto once = apply_people_operations(stored, *ops);
    auto twice = apply_people_operations(stored, *ops);
    if (once.has_value() != twice.has_value() || (once && *once != *twice))
        return std::string("applying the same operations twice gave different results");
    if (!once)
        return check_api_error(once.error(), "apply_people_operations");
    for (const auto& name : ops->unset)
        if (once->contains(name))
            return "$unset left " + name + " in place";
    // Contact properties valid before stay valid: list and number operations may not touch them.
    if (!check_contact_properties(stored, "p") && check_contact_properties(*once, "p"))
        return std::string("operations left $email or $phone invalid");
    std::string text = boost::json::serialize(*once);
    boost::json::parse_options deep;
    deep.max_depth = 1024;
    auto back = boost::json::parse(text, ec, {}, deep);
    if (ec || !same_value(back, boost::json::value(*once)))
        return std::string("the result does not survive serialisation");
    return std::nullopt;
}

// Runs data through the named entry point; unknown names are a finding too.
inline finding run_entry_point(std::string_view name, std::string_view data)
{
    if (name == "multipart")
        return multipart_entry(data);
    if (name == "ndjson")
        return ndjson_entry(data);
    if (name == "bulk_json")
        return bulk_json_entry(data);
    if (name == "requests")
        return requests_entry(data);
    if (name == "people_operations")
        return people_operations_entry(data);
    if (name == "http_request")
        return http_request_entry(data);
    return "no entry point named " + std::string(name);
}

} // namespace profiled::fuzz
