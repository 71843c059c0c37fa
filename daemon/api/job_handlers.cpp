// Job status: one job, a project's jobs page by page, a job's row errors page by page; cancelling a job.
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "common/ops/clock.hpp"
#include "common/ops/log.hpp"
#include "common/ops/metrics.hpp"
#include "common/store/job_cancel.hpp"

#include "common/profiles/profile_json.hpp"
#include "common/profiles/requests.hpp"
#include "daemon/api/job_body_cache.hpp"
#include "daemon/api/page_params.hpp"
#include "daemon/api/routes.hpp"
#include "daemon/jobs/job_runner.hpp"
#include "daemon/serve/spool_thread.hpp"

namespace profiled {
namespace json = boost::json;
namespace net = boost::asio;

namespace {

constexpr int default_page = 20;
constexpr int max_page = 100;

// GET /v1/background_jobs/{job_id}.
net::awaitable<http_response> get_job(server_context& ctx, request_context& rc)
{
    // A job the runner holds is answered from its memory, which is what the store has; ended jobs from the store.
    // Polls of a running job come often and find it mostly unchanged: its body is rendered once per change.
    thread_local job_body_cache polled;
    std::optional<job_record> job;
    if (ctx.runner)
        job = ctx.runner->find_active(rc.key->project_id, rc.params[0]);
    if (job)
        co_return json_text_response(200, polled.body_of(*job));
    auto lookup = ctx.reads.run([project = rc.key->project_id, id = rc.params[0]](store_reader& r) {
        return r.find_job(project, id);
    });
    job = co_await std::move(lookup);
    if (!job)
        co_return error_response(not_found("job", rc.params[0]));
    co_return json_response(200, job_to_json(*job));
}

// GET /v1/background_jobs?status=&limit=&cursor=.
net::awaitable<http_response> list_jobs(server_context& ctx, request_context& rc)
{
    auto params = query_params(rc.request);
    std::optional<job_status> status;
    if (auto it = params.find("status"); it != params.end() && !it->second.empty()) {
        status = parse_job_status(it->second);
        if (!status)
            co_return error_response(invalid_field("status", "status must be queued, running, done or failed"));
    }
    auto limit = integer_param(params, "limit", default_page, 1, max_page);
    if (!limit)
        co_return error_response(limit.error());
    auto lookup = ctx.reads.run([project = rc.key->project_id, status, cursor = cursor_param(params),
                                 limit = static_cast<int>(*limit)](store_reader& r) {
        return r.list_jobs(project, status, cursor, limit);
    });
    auto page = co_await std::move(lookup);
    if (!page)
        co_return error_response(bad_cursor());
    json::array jobs;
    for (const auto& j : page->jobs)
        jobs.push_back(job_to_json(j));
    co_return json_response(200,
                            json::object{{"jobs", std::move(jobs)}, {"next_cursor", cursor_json(page->next_cursor)}});
}

// GET /v1/background_jobs/{job_id}/errors?limit=&cursor=.
net::awaitable<http_response> list_job_errors(server_context& ctx, request_context& rc)
{
    auto lookup = ctx.reads.run([project = rc.key->project_id, id = rc.params[0]](store_reader& r) {
        return r.find_job(project, id);
    });
    auto job = co_await std::move(lookup);
    if (!job)
        co_return error_response(not_found("job", rc.params[0]));
    auto params = query_params(rc.request);
    auto limit = integer_param(params, "limit", default_page, 1, max_page);
    if (!limit)
        co_return error_response(limit.error());
    auto page_lookup = ctx.reads.run([id = job->job_id, cursor = cursor_param(params),
                                      limit = static_cast<int>(*limit)](store_reader& r) {
        return r.list_job_errors(id, cursor, limit);
    });
    auto page = co_await std::move(page_lookup);
    if (!page)
        co_return error_response(bad_cursor());
    json::array errors;
    for (const auto& e : page->errors)
        errors.push_back(job_error_to_json(e));
    co_return json_response(200, json::object{{"job_id", job->job_id},
                                              {"failed_rows", job->failed_rows},
                                              {"errors", std::move(errors)},
                                              {"next_cursor", cursor_json(page->next_cursor)}});
}

// Bookkeeping for a job the cancel request itself ended (no daemon was working on it): its upload removed from
// the spool, logged and counted as the runner does for the jobs it ends.
void ended_by_cancel(server_context& ctx, const job_record& job)
{
    ctx.spooler.post([&spool = ctx.spool, id = job.job_id] { spool.remove_job(id); });
    log_event(log_level::warn, "job.failed", cancelled_job_error,
              {{"job_id", job.job_id}, {"project_id", job.project_id}, {"type", to_string(job.type)},
               {"total_rows", job.total_rows}, {"processed_rows", job.processed_rows},
               {"failed_rows", job.failed_rows}, {"duration_seconds", static_cast<double>(job.processing_ms) / 1000.0},
               {"cancelled", true}});
    daemon_metrics().add("profiled_jobs_total", metric_labels({{"status", to_string(job_status::failed)}}));
}

// POST /v1/background_jobs/{job_id}/cancel: 202 with the job once the request is durable. A job no daemon is working
// on has ended (failed, "cancelled"); a running one ends at its next chunk boundary, wherever it runs.
net::awaitable<http_response> cancel_job_request(server_context& ctx, request_context& rc)
{
    std::vector<store_operation> ops;
    ops.push_back(cancel_job{rc.key->project_id, rc.params[0], now_ms()});
    auto write = written_outcomes(ctx, std::move(ops));
    auto result = co_await std::move(write);
    if (result.failure)
        co_return error_response(*result.failure);
    operation_outcome& outcome = result.outcomes.front();
    if (outcome.refused)
        co_return error_response(*outcome.refused);
    if (!outcome.job)
        co_return error_response(not_found("job", rc.params[0]));
    job_record& job = *outcome.job;
    bool ended = job.status == job_status::failed;
    if (ended)
        ended_by_cancel(ctx, job);
    else
        log_event(log_level::info, "job.cancel_requested", "bulk job cancel requested; it ends at its next chunk",
                  {{"job_id", job.job_id}, {"project_id", job.project_id}, {"processed_rows", job.processed_rows}});
    if (ctx.runner)
        ctx.runner->cancel_requested(job);
    co_return json_response(202, job_to_json(job));
}

} // namespace

// GET /v1/background_jobs, /v1/background_jobs/{job_id}, /v1/background_jobs/{job_id}/errors, and POST
// /v1/background_jobs/{job_id}/cancel.
void add_job_routes(router& routes, server_context& ctx)
{
    route_options read{.auth = auth_rule::secret_key, .rate = rate_class::read};
    route_options cancel{.auth = auth_rule::secret_key, .rate = rate_class::write};
    routes.add("GET", "/v1/background_jobs", read, with_context(ctx, list_jobs));
    routes.add("GET", "/v1/background_jobs/{job_id}", read, with_context(ctx, get_job));
    routes.add("GET", "/v1/background_jobs/{job_id}/errors", read, with_context(ctx, list_job_errors));
    routes.add("POST", "/v1/background_jobs/{job_id}/cancel", cancel, with_context(ctx, cancel_job_request));
}

} // namespace profiled
