// Log lines as format_log_line renders them: the timestamp first when given, in both formats.
#include <catch2/catch.hpp>

#include <boost/json/parse.hpp>

#include "common/ops/log.hpp"

using namespace profiled;

TEST_CASE("a log line starts with its timestamp when one is given, and has none otherwise", "[logs]")
{
    const std::string ts = "2026-12-03T13:20:01.234Z";
    SECTION("logfmt")
    {
        CHECK(format_log_line(log_format::logfmt, log_level::info, "job.done", "bulk job done",
                              {{"project", "acme co"}, {"rows", 3}}, ts) ==
              "ts=2026-12-03T13:20:01.234Z level=info event=job.done msg=\"bulk job done\" project=\"acme co\" "
              "rows=3\n");
        CHECK(format_log_line(log_format::logfmt, log_level::warn, "x", "m", {}) == "level=warn event=x msg=m\n");
    }
    SECTION("JSON")
    {
        std::string line = format_log_line(log_format::json, log_level::info, "job.done", "done", {{"rows", 3}}, ts);
        CHECK(line.rfind("{\"ts\":\"2026-12-03T13:20:01.234Z\",\"level\":\"info\"", 0) == 0);
        auto parsed = boost::json::parse(line).as_object();
        CHECK(parsed.at("ts") == ts.c_str());
        CHECK(parsed.at("rows") == 3);
        auto plain = boost::json::parse(format_log_line(log_format::json, log_level::info, "e", "m", {})).as_object();
        CHECK_FALSE(plain.contains("ts"));
        CHECK(plain.at("level") == "info");
    }
}
