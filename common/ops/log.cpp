#include "common/ops/log.hpp"

#include <atomic>
#include <unistd.h>

#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>
#include <fmt/format.h>

#include "common/ops/clock.hpp"

namespace profiled {
namespace {

std::atomic<log_format> current_format{log_format::logfmt};
std::atomic<log_level> current_level{log_level::info};
std::atomic<bool> timestamps_on{true};

// The level's name as written in every line.
std::string_view level_name(log_level level)
{
    switch (level) {
    case log_level::debug: return "debug";
    case log_level::info: return "info";
    case log_level::warn: return "warn";
    case log_level::error: return "error";
    }
    return "info";
}

// A logfmt value: bare when safe, otherwise quoted with escapes.
void append_logfmt_value(std::string& out, std::string_view v)
{
    bool needs_quotes = v.empty();
    for (char c : v) {
        if (c <= ' ' || c == '"' || c == '=' || c == '\\' || c == 0x7f) {
            needs_quotes = true;
            break;
        }
    }
    if (!needs_quotes) {
        out += v;
        return;
    }
    out += '"';
    for (char c : v) {
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            if (static_cast<unsigned char>(c) < 0x20)
                out += fmt::format("\\u{:04x}", static_cast<unsigned char>(c));
            else
                out += c;
        }
    }
    out += '"';
}

// A JSON string literal for v.
std::string json_string(std::string_view v) { return boost::json::serialize(boost::json::string(v)); }

// The field's value as text, without quoting.
std::string plain_value(const log_field::value_type& value)
{
    return std::visit(
        [](const auto& v) -> std::string {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, std::string>)
                return v;
            else if constexpr (std::is_same_v<T, bool>)
                return v ? "true" : "false";
            else if constexpr (std::is_same_v<T, double>)
                return fmt::format("{:.6g}", v);
            else
                return fmt::format("{}", v);
        },
        value);
}

} // namespace

void set_log_format(log_format format) { current_format.store(format); }
void set_log_level(log_level level) { current_level.store(level); }
void set_log_timestamps(bool on) { timestamps_on.store(on); }

bool parse_log_format(std::string_view name, log_format& out)
{
    if (name == "logfmt")
        out = log_format::logfmt;
    else if (name == "json")
        out = log_format::json;
    else
        return false;
    return true;
}

bool parse_log_level(std::string_view name, log_level& out)
{
    if (name == "debug")
        out = log_level::debug;
    else if (name == "info")
        out = log_level::info;
    else if (name == "warn")
        out = log_level::warn;
    else if (name == "error")
        out = log_level::error;
    else
        return false;
    return true;
}

std::string format_log_line(log_format format, log_level level, std::string_view event, std::string_view message,
                            std::initializer_list<log_field> fields, std::string_view timestamp)
{
    std::string line;
    if (format == log_format::json) {
        line += '{';
        if (!timestamp.empty()) {
            line += "\"ts\":";
            line += json_string(timestamp);
            line += ',';
        }
        line += fmt::format("\"level\":\"{}\",\"event\":{},\"msg\":{}", level_name(level), json_string(event),
                            json_string(message));
        for (const auto& f : fields) {
            line += ',';
            line += json_string(f.key);
            line += ':';
            if (std::holds_alternative<std::string>(f.value))
                line += json_string(std::get<std::string>(f.value));
            else
                line += plain_value(f.value);
        }
        line += "}\n";
        return line;
    }
    if (!timestamp.empty())
        line = fmt::format("ts={} ", timestamp);
    line += fmt::format("level={} event=", level_name(level));
    append_logfmt_value(line, event);
    line += " msg=";
    append_logfmt_value(line, message);
    for (const auto& f : fields) {
        line += ' ';
        line += f.key;
        line += '=';
        append_logfmt_value(line, plain_value(f.value));
    }
    line += '\n';
    return line;
}

void log_event(log_level level, std::string_view event, std::string_view message,
               std::initializer_list<log_field> fields)
{
    if (level < current_level.load())
        return;
    std::string stamp = timestamps_on.load() ? format_rfc3339(now_ms()) : std::string();
    std::string line = format_log_line(current_format.load(), level, event, message, fields, stamp);
    // One write(2) per line keeps lines from different threads whole.
    std::size_t written = 0;
    while (written < line.size()) {
        ssize_t n = ::write(STDERR_FILENO, line.data() + written, line.size() - written);
        if (n <= 0)
            break;
        written += static_cast<std::size_t>(n);
    }
}

} // namespace profiled
