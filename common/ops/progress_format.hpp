// How `profiled import` shows a bulk job's progress: rate estimate, ETA, bar and plain lines, final summary.
// Pure text and arithmetic with the time passed in, so it is unit-testable without a terminal or sleeping.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>

namespace profiled {

// Rows per second from polled (seconds, rows done) samples over a sliding window, so the rate follows
// the runner's current pace rather than the average since the upload.
class rate_estimator {
public:
    explicit rate_estimator(double window_seconds = 10.0) : window_seconds_(window_seconds) {}

    // Records that rows_done rows were done at `seconds` (any monotonic origin, non-decreasing).
    void add(double seconds, std::int64_t rows_done);
    // The recent rate, or nothing until two samples some time apart exist.
    std::optional<double> rows_per_second() const;

private:
    struct sample {
        double seconds;
        std::int64_t rows_done;
    };
    double window_seconds_;
    std::deque<sample> samples_;
};

// What the progress display knows about a job at one poll.
struct progress_snapshot {
    std::string status; // "queued" | "running" | "done" | "failed"
    std::int64_t done = 0;
    std::int64_t total = 0;
    std::optional<double> rows_per_second;
};

// Seconds left at the given rate, or nothing when the rate is unknown or zero.
std::optional<double> eta_seconds(std::int64_t done, std::int64_t total, std::optional<double> rows_per_second);
// A short human duration: "0.4s", "12s", "3m05s", "2h04m".
std::string format_duration(double seconds);
// The rate as "2.5 rows/s", "20 rows/s", or "-- rows/s" when unknown.
std::string format_rate(std::optional<double> rows_per_second);
// done/total as a percentage with one decimal, rounded down so 100.0% means every row.
std::string format_percent(std::int64_t done, std::int64_t total);
// One terminal line, "[#####.....]  500/1000  50.0%  20 rows/s  ETA 25s", fitted into `columns` characters.
std::string progress_bar_line(const progress_snapshot& progress, int columns);
// One log-friendly line for when stdout is not a terminal.
std::string progress_plain_line(const progress_snapshot& progress);
// The closing line of a finished import: rows processed (applied and failed) and how long it took.
std::string import_summary_line(const std::string& status, std::int64_t processed, std::int64_t failed,
                                double seconds);

} // namespace profiled
