// RFC 3339 timestamps as clients see them in job objects and profiles.
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
