// JSON number literals that Boost.JSON would read as another number than the one written.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace profiled {

// Whether a JSON number literal is read as the number it spells, and if not, why.
enum class number_fit {
    fits,              // an integer read exactly, or a fraction/exponent read as the nearest double (denormals too)
    integer_too_large, // an integer below int64 or above uint64: it would become a rounded double
    overflow,          // beyond ±1.7976931348623157e308: it would become infinity (0e400: NaN)
    underflow,         // not zero, but nearer 0 than half the smallest denormal (~2.5e-324): it would become 0
};

// Classifies one literal in JSON number syntax, judged by the double Boost.JSON reads for it.
number_fit classify_number(std::string_view literal);

// A number literal of a JSON text that does not fit, and where it is.
struct unfit_number {
    std::string_view text; // the literal as written, a view into the JSON text
    std::string path;      // "metadata.n", "list[2]" (keys as written); empty for a top-level number
    number_fit fit = number_fit::fits;
};

// The first number literal of a valid JSON text that does not fit; strings (and numbers in them) are skipped.
std::optional<unfit_number> find_unfit_number(std::string_view json_text);

} // namespace profiled
