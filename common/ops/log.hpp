// Structured event log: one line per event on stderr, logfmt or JSON lines, each stamped with the time (RFC 3339 UTC,
// milliseconds) unless timestamps are turned off (journald stamps lines itself).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <variant>

namespace profiled {

enum class log_level { debug, info, warn, error };
enum class log_format { logfmt, json };

// One key=value pair of an event; the value keeps its type for the JSON format.
struct log_field {
    using value_type = std::variant<std::string, std::int64_t, double, bool>;

    log_field(std::string_view k, std::string_view v) : key(k), value(std::string(v)) {}
    log_field(std::string_view k, const std::string& v) : key(k), value(v) {}
    log_field(std::string_view k, const char* v) : key(k), value(std::string(v)) {}
    log_field(std::string_view k, bool v) : key(k), value(v) {}
    log_field(std::string_view k, double v) : key(k), value(v) {}
    template <typename Int>
        requires std::is_integral_v<Int>
    log_field(std::string_view k, Int v) : key(k), value(static_cast<std::int64_t>(v))
    {
    }

    std::string_view key;
    value_type value;
};

// Chooses the line format for every later event.
void set_log_format(log_format format);
// Events below this level are dropped.
void set_log_level(log_level level);
// Whether each line starts with ts=... (logfmt) or "ts":... (JSON); on by default.
void set_log_timestamps(bool on);
// Parses "logfmt" or "json"; false when the name is unknown.
bool parse_log_format(std::string_view name, log_format& out);
// Parses "debug", "info", "warn" or "error"; false when the name is unknown.
bool parse_log_level(std::string_view name, log_level& out);

// Writes one event line: level, event name, human message, then the event's fields.
void log_event(log_level level, std::string_view event, std::string_view message,
               std::initializer_list<log_field> fields = {});

// Renders one event line without writing it (used by log_event and its tests); timestamp (an RFC 3339 time) comes
// first as ts when not empty.
std::string format_log_line(log_format format, log_level level, std::string_view event, std::string_view message,
                            std::initializer_list<log_field> fields, std::string_view timestamp = {});

} // namespace profiled
