#include "common/ops/metrics.hpp"

#include <cmath>

#include <fmt/format.h>

namespace profiled {

std::string metric_labels(std::initializer_list<std::pair<std::string_view, std::string_view>> labels)
{
    std::string out;
    for (const auto& [k, v] : labels) {
        if (!out.empty())
            out += ',';
        out += k;
        out += "=\"";
        for (char c : v) {
            if (c == '\\' || c == '"')
                out += '\\';
            if (c == '\n') {
                out += "\\n";
                continue;
            }
            out += c;
        }
        out += '"';
    }
    return out;
}

void metrics_registry::describe(std::string name, metric_type type, std::string help, std::vector<double> buckets)
{
    std::lock_guard lock(mutex_);
    family& f = families_[std::move(name)];
    f.type = type;
    f.help = std::move(help);
    f.buckets = std::move(buckets);
}

void metrics_registry::add(std::string_view name, const std::string& labels, double value)
{
    std::lock_guard lock(mutex_);
    auto it = families_.find(name);
    if (it != families_.end())
        it->second.values[labels] += value;
}

void metrics_registry::set(std::string_view name, const std::string& labels, double value)
{
    std::lock_guard lock(mutex_);
    auto it = families_.find(name);
    if (it != families_.end())
        it->second.values[labels] = value;
}

void metrics_registry::observe(std::string_view name, const std::string& labels, double value)
{
    std::lock_guard lock(mutex_);
    auto it = families_.find(name);
    if (it == families_.end())
        return;
    family& f = it->second;
    histogram_data& h = f.histograms[labels];
    if (h.counts.empty())
        h.counts.assign(f.buckets.size(), 0);
    for (std::size_t i = 0; i < f.buckets.size(); ++i) {
        if (value <= f.buckets[i]) {
            ++h.counts[i];
            break;
        }
    }
    ++h.count;
    h.sum += value;
}

void metrics_registry::start_histogram(std::string_view name, const std::string& labels)
{
    std::lock_guard lock(mutex_);
    auto it = families_.find(name);
    if (it == families_.end())
        return;
    histogram_data& h = it->second.histograms[labels];
    if (h.counts.empty())
        h.counts.assign(it->second.buckets.size(), 0);
}

double metrics_registry::value(std::string_view name, const std::string& labels) const
{
    std::lock_guard lock(mutex_);
    auto it = families_.find(name);
    if (it == families_.end())
        return 0;
    auto v = it->second.values.find(labels);
    return v == it->second.values.end() ? 0 : v->second;
}

namespace {
// A sample value as Prometheus expects it.
std::string number(double v)
{
    if (std::isinf(v))
        return v > 0 ? "+Inf" : "-Inf";
    if (v == std::floor(v) && std::fabs(v) < 1e15)
        return fmt::format("{}", static_cast<long long>(v));
    return fmt::format("{}", v);
}
// name{labels} or name when there are none; extra is appended to the label set.
std::string series(std::string_view name, const std::string& labels, const std::string& extra = {})
{
    std::string all = labels;
    if (!extra.empty())
        all += (all.empty() ? "" : ",") + extra;
    return all.empty() ? std::string(name) : fmt::format("{}{{{}}}", name, all);
}
} // namespace

std::string metrics_registry::render() const
{
    std::lock_guard lock(mutex_);
    std::string out;
    for (const auto& [name, f] : families_) {
        const char* type = f.type == metric_type::counter ? "counter" : f.type == metric_type::gauge ? "gauge" : "histogram";
        out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, f.help, name, type);
        if (f.type != metric_type::histogram) {
            for (const auto& [labels, v] : f.values)
                out += fmt::format("{} {}\n", series(name, labels), number(v));
            continue;
        }
        for (const auto& [labels, h] : f.histograms) {
            std::uint64_t cumulative = 0;
            for (std::size_t i = 0; i < f.buckets.size(); ++i) {
                cumulative += h.counts[i];
                out += fmt::format("{} {}\n", series(name + "_bucket", labels, fmt::format("le=\"{}\"", number(f.buckets[i]))),
                                   cumulative);
            }
            out += fmt::format("{} {}\n", series(name + "_bucket", labels, "le=\"+Inf\""), h.count);
            out += fmt::format("{} {}\n", series(name + "_sum", labels), number(h.sum));
            out += fmt::format("{} {}\n", series(name + "_count", labels), h.count);
        }
    }
    return out;
}

metrics_registry& daemon_metrics()
{
    static metrics_registry* registry = [] {
        auto* r = new metrics_registry;
        const std::vector<double> latency{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
        const std::vector<double> durations{0.1, 0.5, 1, 5, 10, 30, 60, 300, 600, 1800, 3600, 7200};
        r->describe("profiled_build_info", metric_type::gauge, "Build information (version, git revision); the value is always 1.");
        r->describe("profiled_process_start_time_seconds", metric_type::gauge, "Start time of the process since the Unix epoch in seconds.");
        r->describe("profiled_http_requests_total", metric_type::counter, "HTTP requests answered, by route, method and status code.");
        r->describe("profiled_http_request_duration_seconds", metric_type::histogram, "Time from a request's headers to its response, by route.", latency);
        r->describe("profiled_jobs", metric_type::gauge, "Bulk jobs by current status.");
        r->describe("profiled_jobs_total", metric_type::counter, "Bulk jobs that reached a status since start, by status.");
        r->describe("profiled_job_duration_seconds", metric_type::histogram, "Time from a job's start to its end, by type and final status.", durations);
        r->describe("profiled_job_queue_wait_seconds", metric_type::histogram, "Time a job waited between submission and start.", durations);
        r->describe("profiled_rows_total", metric_type::counter, "Bulk rows processed, by type and result (applied or failed).");
        r->describe("profiled_upload_bytes_total", metric_type::counter, "Bytes of bulk uploads accepted.");
        r->describe("profiled_spool_bytes", metric_type::gauge, "Bytes in the spool directory.");
        r->describe("profiled_ratelimit_throttled_total", metric_type::counter, "Requests refused with 429 by a rate limit.");
        r->describe("profiled_http_connections", metric_type::gauge, "HTTP connections open now.");
        r->describe("profiled_http_connections_refused_total", metric_type::counter, "Connections answered 503 and closed because --max-connections were open.");
        r->describe("profiled_writer_batch_rows", metric_type::histogram, "Writes committed together in one writer transaction.", {1, 2, 4, 8, 16, 32, 64, 128, 256, 512});
        r->describe("profiled_writer_commit_duration_seconds", metric_type::histogram, "Duration of one writer transaction, until committed (its sync overlaps the next transaction).", latency);
        r->describe("profiled_writer_sync_duration_seconds", metric_type::histogram, "Duration of one sync making the transactions committed before it durable.", latency);
        r->describe("profiled_writer_queue_depth", metric_type::gauge, "Writes waiting for the writer thread.");
        r->describe("profiled_job_queue_depth", metric_type::gauge, "Bulk jobs queued or running.");
        r->describe("profiled_database_reachable", metric_type::gauge, "1 while the database can be reached (as last found), 0 during an outage.");
        r->describe("profiled_oldest_queued_job_age_seconds", metric_type::gauge, "Seconds the oldest queued job has waited since its submission; 0 when none is queued.");
        r->describe("profiled_job_rows_waiting", metric_type::gauge, "Rows of bulk jobs not processed yet, by job status (queued or running).");
        r->describe("profiled_database_size_bytes", metric_type::gauge, "Bytes the database takes (SQLite: the file and its WAL; PostgreSQL: pg_database_size), refreshed at most every 10 seconds.");
        r->describe("profiled_data_dir_free_bytes", metric_type::gauge, "Bytes free for profiled on the data directory's filesystem.");
        r->describe("profiled_data_dir_size_bytes", metric_type::gauge, "Size in bytes of the data directory's filesystem.");
        r->describe("process_cpu_seconds_total", metric_type::counter, "Total user and system CPU time spent in seconds.");
        r->describe("process_resident_memory_bytes", metric_type::gauge, "Resident memory size in bytes.");
        r->describe("process_virtual_memory_bytes", metric_type::gauge, "Virtual memory size in bytes.");
        r->describe("process_open_fds", metric_type::gauge, "Number of open file descriptors.");
        r->describe("process_max_fds", metric_type::gauge, "Maximum number of open file descriptors.");
        r->describe("process_start_time_seconds", metric_type::gauge, "Start time of the process since unix epoch in seconds.");
        r->describe("profiled_last_job_done_timestamp_seconds", metric_type::gauge, "When the last bulk job finished successfully, since the Unix epoch.");
        r->describe("profiled_webhook_deliveries_total", metric_type::counter, "Webhook delivery attempts, by outcome: delivered, retry (failed, to be tried again) or failed (the last attempt failed).");
        r->describe("profiled_webhook_queue_depth", metric_type::gauge, "Webhook deliveries pending: waiting to be sent or retried.");
        // Series that exist from the start at 0, so that rate() and increase() see the first event too.
        // (Named arrays, not braced lists in range-for: GCC 12 with -fsanitize=address skipped those loops.)
        static const char* const statuses[] = {"queued", "running", "done", "failed"};
        static const char* const types[] = {"users", "companies"};
        static const char* const results[] = {"applied", "failed"};
        static const char* const plain[] = {"profiled_upload_bytes_total", "profiled_ratelimit_throttled_total",
                                            "profiled_spool_bytes", "profiled_writer_queue_depth",
                                            "profiled_job_queue_depth", "profiled_http_connections",
                                            "profiled_http_connections_refused_total"};
        for (const char* status : statuses)
            r->add("profiled_jobs_total", metric_labels({{"status", status}}), 0);
        static const char* const final_statuses[] = {"done", "failed"};
        static const char* const waiting_statuses[] = {"queued", "running"};
        for (const char* type : types)
            for (const char* status : final_statuses)
                r->start_histogram("profiled_job_duration_seconds", metric_labels({{"type", type}, {"status", status}}));
        for (const char* status : waiting_statuses)
            r->set("profiled_job_rows_waiting", metric_labels({{"status", status}}), 0);
        r->start_histogram("profiled_job_queue_wait_seconds", {});
        r->set("profiled_oldest_queued_job_age_seconds", {}, 0);
        for (const char* type : types)
            for (const char* result : results)
                r->add("profiled_rows_total", metric_labels({{"type", type}, {"result", result}}), 0);
        for (const char* name : plain)
            r->add(name, {}, 0);
        static const char* const delivery_outcomes[] = {"delivered", "retry", "failed"};
        for (const char* outcome : delivery_outcomes)
            r->add("profiled_webhook_deliveries_total", metric_labels({{"outcome", outcome}}), 0);
        r->add("profiled_webhook_queue_depth", {}, 0);
        return r;
    }();
    return *registry;
}

} // namespace profiled
