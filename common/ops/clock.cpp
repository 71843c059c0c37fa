#include "common/ops/clock.hpp"

#include <chrono>
#include <cstring>
#include <ctime>

#include <fmt/format.h>

namespace profiled {

std::int64_t now_ms()
{
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string format_rfc3339(std::int64_t epoch_ms)
{
    std::time_t seconds = static_cast<std::time_t>(epoch_ms / 1000);
    int millis = static_cast<int>(epoch_ms % 1000);
    if (millis < 0) {
        millis += 1000;
        --seconds;
    }
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    // By hand rather than with fmt: every job object a status poll answers has four of these.
    char text[32];
    auto put = [&text](int at, int value, int digits) {
        for (int i = digits - 1; i >= 0; --i, value /= 10)
            text[at + i] = static_cast<char>('0' + value % 10);
    };
    int year = utc.tm_year + 1900;
    if (year < 0 || year > 9999)
        return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", year, utc.tm_mon + 1, utc.tm_mday,
                           utc.tm_hour, utc.tm_min, utc.tm_sec, millis);
    std::memcpy(text, "0000-00-00T00:00:00.000Z", 24);
    put(0, year, 4);
    put(5, utc.tm_mon + 1, 2);
    put(8, utc.tm_mday, 2);
    put(11, utc.tm_hour, 2);
    put(14, utc.tm_min, 2);
    put(17, utc.tm_sec, 2);
    put(20, millis, 3);
    return std::string(text, 24);
}

namespace {

// The number of len digits at text[at], or -1 when they are not all digits.
int digits_at(std::string_view text, std::size_t at, std::size_t len)
{
    if (at + len > text.size())
        return -1;
    int value = 0;
    for (std::size_t i = at; i < at + len; ++i) {
        if (text[i] < '0' || text[i] > '9')
            return -1;
        value = value * 10 + (text[i] - '0');
    }
    return value;
}

// Days from 1970-01-01 to the civil date (proleptic Gregorian), after Howard Hinnant's days_from_civil.
std::int64_t days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    const int era = (y >= 0 ? y : y - 399) / 400;
    const int yoe = y - era * 400;
    const int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return static_cast<std::int64_t>(era) * 146097 + doe - 719468;
}

// Whether the day exists in that month of that year.
bool valid_day(int year, int month, int day)
{
    static constexpr int lengths[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    int length = lengths[month - 1] + (month == 2 && leap ? 1 : 0);
    return day >= 1 && day <= length;
}

} // namespace

std::optional<std::int64_t> parse_rfc3339(std::string_view t)
{
    int year = digits_at(t, 0, 4), month = digits_at(t, 5, 2), day = digits_at(t, 8, 2);
    int hour = digits_at(t, 11, 2), minute = digits_at(t, 14, 2), second = digits_at(t, 17, 2);
    if (t.size() < 20 || year < 0 || month < 1 || month > 12 || day < 0 || hour < 0 || hour > 23 || minute < 0 ||
        minute > 59 || second < 0 || second > 60 || t[4] != '-' || t[7] != '-' || (t[10] != 'T' && t[10] != 't') ||
        t[13] != ':' || t[16] != ':' || !valid_day(year, month, day))
        return std::nullopt;
    std::size_t at = 19;
    int millis = 0;
    if (t[at] == '.') {
        std::size_t first = ++at;
        while (at < t.size() && t[at] >= '0' && t[at] <= '9') {
            if (at - first < 3)
                millis = millis * 10 + (t[at] - '0');
            ++at;
        }
        if (at == first)
            return std::nullopt;
        for (std::size_t n = at - first; n < 3; ++n)
            millis *= 10;
    }
    int offset_minutes = 0;
    if (at < t.size() && (t[at] == 'Z' || t[at] == 'z')) {
        ++at;
    } else if (at < t.size() && (t[at] == '+' || t[at] == '-')) {
        int oh = digits_at(t, at + 1, 2), om = digits_at(t, at + 4, 2);
        if (oh < 0 || oh > 23 || om < 0 || om > 59 || at + 3 >= t.size() || t[at + 3] != ':')
            return std::nullopt;
        offset_minutes = (oh * 60 + om) * (t[at] == '+' ? 1 : -1);
        at += 6;
    } else {
        return std::nullopt;
    }
    if (at != t.size())
        return std::nullopt;
    // A leap second (:60) counts as the next second's start, as Unix time has no place for it.
    std::int64_t seconds = days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second -
                           static_cast<std::int64_t>(offset_minutes) * 60;
    return seconds * 1000 + millis;
}

} // namespace profiled
