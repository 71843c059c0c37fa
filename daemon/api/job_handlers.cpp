// Job status: one job, a project's jobs page by page, a job's row errors page by page.
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "common/profiles/profile_json.hpp"
#include "common/profiles/requests.hpp"
#include "daemon/api/page_params.hpp"
#include "daemon/api/routes.hpp"
#include "daemon/jobs/job_runner.hpp"

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
    std::optional<job_record> job;
    if (ctx.runner)
        job = ctx.runner->find_active(rc.key->project_id, rc.params[0]);
    if (!job) {
        auto lookup = ctx.reads.run([project = rc.key->project_id, id = rc.params[0]](store_reader& r) {
            return r.find_job(project, id);
        });
        job = co_await std::move(lookup);
    }
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

} // namespace

// GET /v1/background_jobs, /v1/background_jobs/{job_id}, /v1/background_jobs/{job_id}/errors.
void add_job_routes(router& routes, server_context& ctx)
{
    route_options read{.auth = auth_rule::secret_key, .rate = rate_class::read};
    routes.add("GET", "/v1/background_jobs", read, with_context(ctx, list_jobs));
    routes.add("GET", "/v1/background_jobs/{job_id}", read, with_context(ctx, get_job));
    routes.add("GET", "/v1/background_jobs/{job_id}/errors", read, with_context(ctx, list_job_errors));
}

} // namespace profiled
