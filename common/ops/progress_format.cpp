#include "common/ops/progress_format.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace profiled {

namespace {

// Widest bar drawn, however wide the terminal: beyond this it only adds noise.
constexpr int max_bar_width = 30;
// Narrower than this, a bar says nothing and is left out.
constexpr int min_bar_width = 5;

// The rate and ETA part of a line, or the waiting state when the job has not started.
std::string pace_text(const progress_snapshot& p, const char* separator)
{
    if (p.status == "queued")
        return "waiting for the runner";
    auto eta = eta_seconds(p.done, p.total, p.rows_per_second);
    return fmt::format("{}{}ETA {}", format_rate(p.rows_per_second), separator,
                       eta ? format_duration(*eta) : std::string("--"));
}

} // namespace

void rate_estimator::add(double seconds, std::int64_t rows_done)
{
    samples_.push_back({seconds, rows_done});
    // Keep the newest sample at or before the window's start as the baseline, so the window stays full.
    while (samples_.size() > 2 && samples_[1].seconds <= seconds - window_seconds_)
        samples_.pop_front();
}

std::optional<double> rate_estimator::rows_per_second() const
{
    if (samples_.size() < 2)
        return std::nullopt;
    const sample& first = samples_.front();
    const sample& last = samples_.back();
    double elapsed = last.seconds - first.seconds;
    if (elapsed <= 0)
        return std::nullopt;
    return std::max(0.0, static_cast<double>(last.rows_done - first.rows_done) / elapsed);
}

std::optional<double> eta_seconds(std::int64_t done, std::int64_t total, std::optional<double> rows_per_second)
{
    if (done >= total)
        return 0.0;
    if (!rows_per_second || *rows_per_second <= 0)
        return std::nullopt;
    return static_cast<double>(total - done) / *rows_per_second;
}

std::string format_duration(double seconds)
{
    if (!(seconds > 0))
        return "0s";
    if (seconds < 10)
        return fmt::format("{:.1f}s", std::floor(seconds * 10) / 10);
    auto whole = static_cast<std::int64_t>(std::llround(seconds));
    if (whole < 60)
        return fmt::format("{}s", whole);
    if (whole < 3600)
        return fmt::format("{}m{:02}s", whole / 60, whole % 60);
    return fmt::format("{}h{:02}m", whole / 3600, whole % 3600 / 60);
}

std::string format_rate(std::optional<double> rows_per_second)
{
    if (!rows_per_second)
        return "-- rows/s";
    if (*rows_per_second < 10)
        return fmt::format("{:.1f} rows/s", *rows_per_second);
    return fmt::format("{} rows/s", std::llround(*rows_per_second));
}

// Rounded down so 99.96% reads 99.9%, not a premature 100.0%.
std::string format_percent(std::int64_t done, std::int64_t total)
{
    if (total <= 0)
        return "0.0%";
    std::int64_t tenths = std::clamp<std::int64_t>(done * 1000 / total, 0, 1000);
    return fmt::format("{}.{}%", tenths / 10, tenths % 10);
}

// The text after the bar decides the bar's width, so the line never wraps (a wrapped line breaks \r redraws).
std::string progress_bar_line(const progress_snapshot& p, int columns)
{
    std::string text = fmt::format("{}/{}  {}  {}", p.done, p.total, format_percent(p.done, p.total),
                                   pace_text(p, "  "));
    // "[", "]", two spaces, and one spare column: writing the last column makes some terminals wrap early.
    int bar_width = std::min(max_bar_width, columns - static_cast<int>(text.size()) - 5);
    if (bar_width < min_bar_width)
        return text;
    std::int64_t filled = p.total > 0 ? std::clamp<std::int64_t>(p.done * bar_width / p.total, 0, bar_width) : 0;
    return fmt::format("[{}{}]  {}", std::string(static_cast<std::size_t>(filled), '#'),
                       std::string(static_cast<std::size_t>(bar_width - filled), '.'), text);
}

std::string progress_plain_line(const progress_snapshot& p)
{
    return fmt::format("{}: {}/{} rows ({}), {}", p.status, p.done, p.total, format_percent(p.done, p.total),
                       pace_text(p, ", "));
}

std::string import_summary_line(const std::string& status, std::int64_t processed, std::int64_t failed,
                                double seconds)
{
    return fmt::format("{}: {} rows processed ({} applied, {} failed) in {}", status, processed,
                       std::max<std::int64_t>(0, processed - failed), failed, format_duration(seconds));
}

} // namespace profiled
