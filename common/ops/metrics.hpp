// Prometheus metrics: counters, gauges and histograms, rendered in the text exposition format.
#pragma once

#include <initializer_list>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace profiled {

enum class metric_type { counter, gauge, histogram };

// A label set rendered once, e.g. route="/v1/identify",method="POST".
std::string metric_labels(std::initializer_list<std::pair<std::string_view, std::string_view>> labels);

class metrics_registry {
public:
    // Declares a family; histograms take their bucket upper bounds.
    void describe(std::string name, metric_type type, std::string help, std::vector<double> buckets = {});
    // Adds to a counter (or gauge).
    void add(std::string_view name, const std::string& labels = {}, double value = 1);
    // Sets a gauge.
    void set(std::string_view name, const std::string& labels, double value);
    // Records one observation in a histogram.
    void observe(std::string_view name, const std::string& labels, double value);
    // Makes a histogram's series exist with no observations yet, so it is scraped (at 0) from the start.
    void start_histogram(std::string_view name, const std::string& labels);
    // The value of a counter or gauge (0 when never touched), for tests and STATUS=.
    double value(std::string_view name, const std::string& labels = {}) const;
    // Every family in the Prometheus text format.
    std::string render() const;

private:
    struct histogram_data {
        std::vector<std::uint64_t> counts; // per bucket, not cumulative
        std::uint64_t count = 0;
        double sum = 0;
    };
    struct family {
        metric_type type = metric_type::counter;
        std::string help;
        std::vector<double> buckets;
        std::map<std::string, double> values;
        std::map<std::string, histogram_data> histograms;
    };

    mutable std::mutex mutex_;
    std::map<std::string, family, std::less<>> families_;
};

// The process-wide registry with every profiled metric declared.
metrics_registry& daemon_metrics();

} // namespace profiled
