#include "common/formats/json_numbers.hpp"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstdint>
#include <vector>

#include <boost/json/parse.hpp>
#include <fmt/format.h>

namespace profiled {

namespace {

namespace json = boost::json;

// Decimal exponents (of a literal's leading significant digit) that are surely safe or surely lost; between
// the two bands the literal is read with Boost.JSON itself, whose rounding at the edges differs from strtod's
// (1.7976931348623158e308 becomes infinity, 2.4703282292062328e-324 becomes 0).
constexpr std::int64_t surely_fits = 300;
constexpr std::int64_t surely_overflows = 320;
constexpr std::int64_t surely_underflows = -340;
// Exponents are counted up to this, which is far beyond any that matters and cannot overflow.
constexpr std::int64_t exponent_cap = 1'000'000'000;

// The parts of a literal in JSON number syntax.
struct number_parts {
    bool negative = false;
    std::string_view integer;  // digits before the '.', never empty
    bool has_fraction = false;
    std::string_view fraction; // digits after the '.'
    bool has_exponent = false;
    std::int64_t exponent = 0; // capped at ±exponent_cap
};

// Splits a literal into its parts (the syntax is trusted: the parser accepted it).
number_parts split_number(std::string_view s)
{
    number_parts p;
    std::size_t i = 0;
    auto digits_from = [&](std::size_t start) {
        std::size_t end = start;
        while (end < s.size() && s[end] >= '0' && s[end] <= '9')
            ++end;
        return end;
    };
    if (i < s.size() && s[i] == '-') {
        p.negative = true;
        ++i;
    }
    std::size_t end = digits_from(i);
    p.integer = s.substr(i, end - i);
    i = end;
    if (i < s.size() && s[i] == '.') {
        p.has_fraction = true;
        end = digits_from(i + 1);
        p.fraction = s.substr(i + 1, end - i - 1);
        i = end;
    }
    if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
        p.has_exponent = true;
        ++i;
        bool negative_exponent = false;
        if (i < s.size() && (s[i] == '+' || s[i] == '-'))
            negative_exponent = s[i++] == '-';
        for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i)
            p.exponent = std::min(p.exponent * 10 + (s[i] - '0'), exponent_cap);
        if (negative_exponent)
            p.exponent = -p.exponent;
    }
    return p;
}

// Whether an integer literal fits the int64 (negative) or uint64 (otherwise) that Boost.JSON reads it into.
bool integer_fits(std::string_view literal, bool negative)
{
    const char* first = literal.data();
    const char* last = literal.data() + literal.size();
    if (negative) {
        std::int64_t value = 0;
        return std::from_chars(first, last, value).ec == std::errc{};
    }
    std::uint64_t value = 0;
    return std::from_chars(first, last, value).ec == std::errc{};
}

// The verdict from the double Boost.JSON reads for the literal.
number_fit judge_by_parser(std::string_view literal, bool zero, bool negative_exponent)
{
    boost::system::error_code ec;
    json::value v = json::parse(literal, ec);
    if (ec || !v.is_double()) // an exponent the parser refuses outright
        return negative_exponent ? number_fit::underflow : number_fit::overflow;
    double d = v.get_double();
    if (!std::isfinite(d))
        return number_fit::overflow;
    if (d == 0 && !zero)
        return number_fit::underflow;
    return number_fit::fits;
}

// One container the scan is inside of.
struct scan_level {
    bool object = false;
    std::size_t index = 0; // arrays: the element's index
    std::string_view key;  // objects: the member's key as written
};

// The path of the value being scanned, from the open containers: "metadata.n", "list[2]".
std::string path_of(const std::vector<scan_level>& levels)
{
    std::string path;
    for (const auto& level : levels) {
        if (!level.object)
            path += fmt::format("[{}]", level.index);
        else if (path.empty())
            path = std::string(level.key);
        else
            path += fmt::format(".{}", level.key);
    }
    return path;
}

// The index just past the string that opens at text[open] (a '"'), escapes included.
std::size_t string_end(std::string_view text, std::size_t open)
{
    for (std::size_t i = open + 1;;) {
        i = text.find_first_of("\"\\", i);
        if (i == std::string_view::npos)
            return text.size();
        if (text[i] == '"')
            return i + 1;
        i += 2; // a backslash and the character it escapes, which may be a quote
    }
}

// Whether c can continue a number literal.
bool in_number(char c) { return (c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-'; }

} // namespace

number_fit classify_number(std::string_view literal)
{
    number_parts p = split_number(literal);
    if (!p.has_fraction && !p.has_exponent)
        return integer_fits(literal, p.negative) ? number_fit::fits : number_fit::integer_too_large;

    // The decimal exponent of the first significant digit: 1.5 -> 0, 1234.5 -> 3, 0.005 -> -3, 2e10 -> 10.
    std::int64_t lead = 0;
    bool zero = true;
    if (auto at = p.integer.find_first_not_of('0'); at != std::string_view::npos) {
        lead = static_cast<std::int64_t>(p.integer.size() - 1 - at) + p.exponent;
        zero = false;
    } else if (auto at_fraction = p.fraction.find_first_not_of('0'); at_fraction != std::string_view::npos) {
        lead = -static_cast<std::int64_t>(at_fraction + 1) + p.exponent;
        zero = false;
    }
    if (zero) {
        // 0 times a huge power of ten is NaN to Boost.JSON (0e400); small exponents are plainly 0.
        if (std::abs(p.exponent) <= surely_fits)
            return number_fit::fits;
        return judge_by_parser(literal, true, p.exponent < 0);
    }
    if (lead >= -surely_fits && lead <= surely_fits)
        return number_fit::fits;
    if (lead > surely_overflows)
        return number_fit::overflow;
    if (lead < surely_underflows)
        return number_fit::underflow;
    return judge_by_parser(literal, false, lead < 0);
}

std::optional<unfit_number> find_unfit_number(std::string_view text)
{
    std::vector<scan_level> levels;
    bool key_next = false; // inside an object, the next string is a member's key
    std::size_t i = 0;
    while (i < text.size()) {
        char c = text[i];
        if (c == '"') {
            std::size_t end = string_end(text, i);
            if (key_next && !levels.empty()) {
                levels.back().key = text.substr(i + 1, end - i - 2);
                key_next = false;
            }
            i = end;
            continue;
        }
        if (c == '-' || (c >= '0' && c <= '9')) {
            std::size_t end = i + 1;
            while (end < text.size() && in_number(text[end]))
                ++end;
            std::string_view literal = text.substr(i, end - i);
            if (number_fit fit = classify_number(literal); fit != number_fit::fits)
                return unfit_number{literal, path_of(levels), fit};
            i = end;
            continue;
        }
        switch (c) {
        case '{':
            levels.push_back({true, 0, {}});
            key_next = true;
            break;
        case '[': levels.push_back({false, 0, {}}); break;
        case '}':
        case ']':
            if (!levels.empty())
                levels.pop_back();
            key_next = false;
            break;
        case ',':
            if (!levels.empty() && levels.back().object)
                key_next = true;
            else if (!levels.empty())
                ++levels.back().index;
            break;
        default: break; // ':', whitespace and the letters of true, false and null
        }
        ++i;
    }
    return std::nullopt;
}

} // namespace profiled
