// RFC 3339 timestamps as clients see them in job objects and profiles.
#include <cstdint>

#include <catch2/catch.hpp>

#include "common/ops/clock.hpp"

using profiled::format_rfc3339;

TEST_CASE("format_rfc3339 writes UTC with milliseconds", "[clock]")
{
    CHECK(format_rfc3339(0) == "1970-01-01T00:00:00.000Z");
    CHECK(format_rfc3339(1738499696789) == "2025-02-02T12:34:56.789Z");
    CHECK(format_rfc3339(951782400001) == "2000-02-29T00:00:00.001Z"); // a leap day
    CHECK(format_rfc3339(253402300799999) == "9999-12-31T23:59:59.999Z");
}

TEST_CASE("format_rfc3339 handles times before 1970 and past year 9999", "[clock]")
{
    CHECK(format_rfc3339(-1) == "1969-12-31T23:59:59.999Z");
    CHECK(format_rfc3339(253402300800000) == "10000-01-01T00:00:00.000Z");
}

TEST_CASE("parse_rfc3339 reads what format_rfc3339 writes, and other RFC 3339 forms", "[clock]")
{
    using profiled::parse_rfc3339;
    for (std::int64_t ms : {std::int64_t(0), std::int64_t(1738499696789), std::int64_t(951782400001),
                            std::int64_t(253402300799999), std::int64_t(-1)}) {
        CAPTURE(ms);
        CHECK(parse_rfc3339(format_rfc3339(ms)) == ms);
    }
    CHECK(parse_rfc3339("2025-02-02T12:34:56Z") == 1738499696000);
    CHECK(parse_rfc3339("2025-02-02t12:34:56z") == 1738499696000);
    CHECK(parse_rfc3339("2025-02-02T12:34:56.7Z") == 1738499696700);
    CHECK(parse_rfc3339("2025-02-02T12:34:56.789123Z") == 1738499696789); // past milliseconds: cut
    CHECK(parse_rfc3339("2025-02-02T13:34:56+01:00") == 1738499696000);
    CHECK(parse_rfc3339("2025-02-02T07:04:56-05:30") == 1738499696000);
    CHECK(parse_rfc3339("2024-02-29T00:00:00Z")); // a leap day
}

TEST_CASE("parse_rfc3339 refuses text that is not an RFC 3339 date-time", "[clock]")
{
    using profiled::parse_rfc3339;
    for (const char* text : {"", "yesterday", "2025-02-02", "2025-02-02T12:34:56", "2025-02-02 12:34:56Z",
                             "2025-13-01T00:00:00Z", "2025-02-30T00:00:00Z", "2023-02-29T00:00:00Z",
                             "2025-02-02T24:00:00Z", "2025-02-02T12:60:00Z", "2025-02-02T12:34:61Z",
                             "2025-02-02T12:34:56.Z", "2025-02-02T12:34:56+1:00", "2025-02-02T12:34:56+01",
                             "2025-02-02T12:34:56+24:00", "2025-02-02T12:34:56Zx", "+2025-02-02T12:34:56Z",
                             "1738499696000", "2025-02-02T12:34:5 Z"}) {
        CAPTURE(text);
        CHECK_FALSE(parse_rfc3339(text));
    }
}
