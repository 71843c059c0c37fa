#include "daemon/jobs/job_runner.hpp"
#include "daemon/serve/loop_failure.hpp"

#include <chrono>
#include <filesystem>
#include <future>
#include <map>
#include <set>
#include <unordered_map>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>

#include "common/formats/spool_file.hpp"
#include "common/ops/clock.hpp"
#include "common/ops/log.hpp"
#include "common/ops/metrics.hpp"
#include "common/ops/project_names.hpp"
#include "common/ops/thread_roles.hpp"
#include "common/ops/token_bucket.hpp"
#include "common/profiles/ids.hpp"
#include "common/store/job_cancel.hpp"
#include "common/store/upload_spool.hpp"
#include "daemon/jobs/job_chunk.hpp"
#include "daemon/jobs/lease_owner.hpp"
#include "daemon/serve/off_loop.hpp"
#include "daemon/serve/server_context.hpp"
#include "daemon/serve/spool_thread.hpp"

namespace profiled {

namespace net = boost::asio;
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

namespace {

// Rows in one transaction when the rate is unlimited: large enough to amortise the commit, small enough
// that single writes queued behind it wait only milliseconds.
constexpr double unlimited_chunk_rows = 10000;
constexpr auto progress_log_interval = 10s;
constexpr auto retry_after_failure = 1s;
// How often uploads abandoned by a daemon that died mid-upload are looked for in the spool.
constexpr auto sweep_interval = 60s;

// A writer batch under way, awaited after other work was done meanwhile.
struct pending_write {
    explicit pending_write(net::io_context& io) : done(io, steady::time_point::max()) {}
    net::steady_timer done;
    std::optional<std::optional<api_error>> outcome;
};

// A job being worked on, with its open spool reader.
struct active_job {
    job_record job;
    std::unique_ptr<spool_reader> reader;
    // With an unlimited rate the next chunk is read while the writer applies the current one.
    std::optional<job_chunk> prefetched;
    steady::time_point started_at = steady::now();
    steady::time_point last_progress_log = steady::now();
    steady::time_point lease_renewed = steady::now();
    std::int64_t processed_at_start = 0;
    // The job's processing time before this daemon held it (other runs, other daemons), and since when this daemon
    // has been processing it: from the claim of a job already running, from the first chunk of a new one.
    std::int64_t processing_ms_before = 0;
    std::optional<steady::time_point> processing_since;
    bool start_logged = false;   // job.started is logged once per daemon run that works on the job
    bool cancel_noticed = false; // a client's cancel reached this daemon: end the job before its next chunk

    // The job's processing time so far, every run together (ms).
    std::int64_t processing_ms() const
    {
        if (!processing_since)
            return processing_ms_before;
        return processing_ms_before +
               std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - *processing_since).count();
    }
};

// One project's job claimed by this daemon (at most one at a time, its oldest), and the project's row rate.
struct project_queue {
    std::shared_ptr<active_job> held;
    token_bucket bucket;
};

// An unfinished job this daemon knows of: as the store has it since the last commit, and since when it is known.
struct known_job {
    job_record job;
    steady::time_point seen_at = steady::now();
};

} // namespace

struct job_runner::impl {
    impl(net::io_context& io_, server_context& ctx_) : io(io_), ctx(ctx_), wake(io_), claim_wake(io_)
    {
        net::post(parser, [] {
            name_this_thread("profiled-parser");
            make_this_thread_background();
        });
    }

    net::io_context& io;
    server_context& ctx;
    net::steady_timer wake;
    net::steady_timer claim_wake;
    // This daemon's name on the leases of the jobs it claims: the same across restarts on one data directory.
    std::string owner = lease_owner_of(ctx.settings.data_dir);
    std::map<std::int64_t, project_queue> projects;
    std::int64_t last_project = -1;
    std::int64_t last_claimed_project = -1;
    bool claim_requested = false;
    steady::time_point last_refresh{};
    bool stopping = false;
    bool running = false;
    runner_stats stats;
    // Each unfinished job this daemon knows of (recovered, accepted here, or claimed), by job id: status polls
    // and the per-project queue limit read this.
    std::unordered_map<std::string, known_job> known;
    // Parses spool rows off the io thread. Last member: joined first, before anything it uses goes away.
    net::thread_pool parser{1};

    // How long a claimed job stays this daemon's without a renewal (--job-lease); renewed, and more jobs looked
    // for, every third of it.
    std::chrono::milliseconds job_lease() const { return std::chrono::seconds(ctx.settings.job_lease_seconds); }
    steady::duration claim_interval() const { return job_lease() / 3; }
    // The wall-clock time (unix ms) a lease taken or renewed at now lasts until.
    std::int64_t lease_until(std::int64_t now) const { return now + job_lease().count(); }
    steady::time_point last_sweep = steady::now();

    // The bucket config for the current settings.
    token_bucket_config bucket_config() const
    {
        return {ctx.settings.rows_per_minute / 60.0, ctx.settings.rows_burst};
    }

    // Ends at once the leases this daemon's owner name still holds (its last run's: the data directory's lock says
    // that run is over), so the first claims take the jobs back instead of waiting for the leases to run out. A
    // job leased to another daemon is left alone: its renewal is refused as lease_lost. A job of the last run whose
    // cancel was asked for meanwhile is at a chunk boundary now: it ends here. Returns the jobs it ended.
    std::set<std::string> let_go_of_last_run(const std::vector<job_record>& unfinished)
    {
        // One submission each, all in flight at once: a refusal undoes its own submission only.
        std::vector<std::future<std::optional<api_error>>> submitted;
        for (const auto& j : unfinished) {
            auto done = std::make_shared<std::promise<std::optional<api_error>>>();
            submitted.push_back(done->get_future());
            std::vector<store_operation> op;
            if (j.cancel_requested_at)
                op.push_back(cancelled_finish(j.job_id, now_ms(), owner));
            else
                op.push_back(renew_job_lease{j.job_id, owner, now_ms(), std::nullopt});
            ctx.writes.submit(std::move(op), [done](std::optional<api_error> e) { done->set_value(std::move(e)); });
        }
        std::set<std::string> ended;
        for (std::size_t i = 0; i < unfinished.size(); ++i) {
            auto refused = submitted[i].get();
            const job_record& j = unfinished[i];
            if (!j.cancel_requested_at || refused)
                continue;
            ended.insert(j.job_id);
            log_event(log_level::warn, "job.failed", cancelled_job_error,
                      {{"job_id", j.job_id}, {"project_id", j.project_id}, {"type", to_string(j.type)},
                       {"total_rows", j.total_rows}, {"processed_rows", j.processed_rows},
                       {"failed_rows", j.failed_rows},
                       {"duration_seconds", static_cast<double>(j.processing_ms) / 1000.0}, {"cancelled", true}});
            daemon_metrics().add("profiled_jobs_total", metric_labels({{"status", "failed"}}));
        }
        return ended;
    }

    // Remembers an unfinished job (io thread).
    void remember(job_record job)
    {
        auto it = known.find(job.job_id);
        if (it != known.end()) {
            it->second.job = std::move(job);
            return;
        }
        std::string job_id = job.job_id;
        known.emplace(std::move(job_id), known_job{std::move(job)});
    }

    // Holds a job this daemon claimed, in its project's slot (io thread).
    void hold(job_record job)
    {
        auto [it, fresh] =
            projects.try_emplace(job.project_id, project_queue{nullptr, token_bucket(bucket_config(), steady::now())});
        remember(job);
        auto active = std::make_shared<active_job>();
        active->processed_at_start = job.processed_rows;
        active->started_at = known.at(job.job_id).seen_at;
        active->processing_ms_before = job.processing_ms;
        if (job.status == job_status::running)
            active->processing_since = steady::now();
        active->job = std::move(job);
        it->second.held = std::move(active);
        wake.cancel();
    }

    // Whether this daemon holds (works on) the job (io thread).
    bool holds(const std::string& job_id) const
    {
        for (const auto& [id, project] : projects) {
            if (project.held && project.held->job.job_id == job_id)
                return true;
        }
        return false;
    }

    // Brings the jobs known here but not held here (accepted or recovered here, claimed by another daemon or not
    // yet by anyone) up to what the store has, forgetting those that ended: a daemon sharing the database may
    // have run them meanwhile. Kept as they are when the store cannot be read.
    net::awaitable<void> refresh_unheld()
    {
        auto started = steady::now();
        // Every claim_interval at most: a round of the claimer comes with every upload.
        if (started - last_refresh < claim_interval())
            co_return;
        last_refresh = started;
        bool any = false;
        for (const auto& [id, k] : known)
            any = any || !holds(id);
        if (!any)
            co_return;
        std::vector<job_record> unfinished;
        try {
            auto lookup = ctx.reads.run([](store_reader& r) { return r.unfinished_jobs(); });
            unfinished = co_await std::move(lookup);
        } catch (const std::exception&) {
            co_return; // the database is away (or slow): the next round tries again
        }
        std::unordered_map<std::string, job_record*> in_store;
        for (auto& j : unfinished)
            in_store.emplace(j.job_id, &j);
        for (auto it = known.begin(); it != known.end();) {
            // Held here, or learnt after the read began (not in it yet): this daemon knows best.
            if (holds(it->first) || it->second.seen_at >= started) {
                ++it;
                continue;
            }
            auto found = in_store.find(it->first);
            if (found == in_store.end()) {
                it = known.erase(it);
                continue;
            }
            it->second.job = std::move(*found->second);
            ++it;
        }
    }

    // Asks the claimer to look for jobs now (io thread).
    void request_claim()
    {
        claim_requested = true;
        claim_wake.cancel();
    }

    // The claimer's loop: claims jobs for the projects this daemon holds none of, and renews the leases of held
    // jobs, whenever asked and every claim_interval.
    net::awaitable<void> claim_jobs()
    {
        while (!stopping) {
            claim_requested = false;
            co_await renew_leases();
            co_await refresh_unheld();
            while (!stopping) {
                auto job = co_await claim_one();
                if (!job)
                    break;
                last_claimed_project = job->project_id;
                hold(std::move(*job));
            }
            sweep_spool_now_and_then();
            if (claim_requested || stopping)
                continue;
            claim_wake.expires_after(claim_interval());
            co_await claim_wake.async_wait(net::as_tuple(net::use_awaitable));
        }
    }

    // Claims the fair-next job of a project this daemon holds no job of; nothing when there is none (or the
    // claim failed, which the next round retries).
    net::awaitable<std::optional<job_record>> claim_one()
    {
        claim_job claim{owner, last_claimed_project, {}, now_ms(), 0};
        claim.lease_until = lease_until(claim.now);
        for (const auto& [id, project] : projects) {
            if (project.held)
                claim.skip_projects.push_back(id);
        }
        std::vector<store_operation> ops;
        ops.push_back(std::move(claim));
        auto result = co_await write_for_outcomes(std::move(ops));
        if (result.failure) {
            if (!stopping)
                log_event(log_level::error, "job.claim_failed", result.failure->message);
            co_return std::nullopt;
        }
        co_return std::move(result.outcomes.front().job);
    }

    // Renews the lease of each held job not renewed for a while (one waiting on its project's row rate).
    net::awaitable<void> renew_leases()
    {
        std::vector<std::shared_ptr<active_job>> due;
        auto now = steady::now();
        for (auto& [id, project] : projects) {
            if (!project.held || now - project.held->lease_renewed < claim_interval())
                continue;
            project.held->lease_renewed = now;
            due.push_back(project.held);
        }
        // One submission each: a lease lost on one job must not refuse the others' renewals with it.
        for (auto& active : due) {
            std::vector<store_operation> renewal;
            renewal.push_back(renew_job_lease{active->job.job_id, owner, lease_until(now_ms()), active->processing_ms()});
            auto outcome = co_await write(std::move(renewal));
            if (outcome && outcome->code == "lease_lost")
                let_go(active, *outcome);
            if (outcome && outcome->code == "job_cancelled") {
                active->cancel_noticed = true; // ended by the runner's loop, woken for it
                wake.cancel();
            }
        }
    }

    // Every sweep_interval, has the spool thread remove uploads that a daemon which died mid-upload left behind.
    void sweep_spool_now_and_then()
    {
        if (steady::now() - last_sweep < sweep_interval)
            return;
        last_sweep = steady::now();
        ctx.spooler.post([&spool = ctx.spool] {
            if (auto removed = spool.sweep_abandoned())
                log_event(log_level::info, "spool.swept", "removed abandoned uploads", {{"uploads", removed}});
        });
    }

    // Forgets a job whose lease another daemon took over (this one was too slow to renew it): that daemon goes on
    // from the job's last checkpoint.
    void let_go(const std::shared_ptr<active_job>& active, const api_error& why)
    {
        log_event(log_level::warn, "job.lease_lost", why.message,
                  {{"job_id", active->job.job_id},
                   {"project_id", active->job.project_id},
                   {"project", known_projects().name_of(active->job.project_id)}});
        release(active);
    }

    // Stops working on a job this daemon no longer holds, and looks for the project's next one.
    void release(const std::shared_ptr<active_job>& active)
    {
        auto it = projects.find(active->job.project_id);
        if (it != projects.end() && it->second.held == active)
            it->second.held.reset();
        active->reader.reset();
        active->prefetched.reset();
        known.erase(active->job.job_id);
        request_claim();
    }

    // Runs operations in the writer (no deadline: the runner waits as long as it takes) and waits for what they
    // did. Not a coroutine (see off_loop).
    net::awaitable<write_result> write_for_outcomes(std::vector<store_operation> ops)
    {
        return off_loop<write_result>([this, ops = std::move(ops)](resumption<write_result> resume) mutable {
            ctx.writes.submit(std::move(ops),
                              [resume](std::optional<api_error> failure, std::vector<operation_outcome> outcomes) {
                                  resume(write_result{std::move(failure), std::move(outcomes)});
                              });
        });
    }

    // Runs operations in the writer and waits for the failure or first refusal, if any.
    net::awaitable<std::optional<api_error>> write(std::vector<store_operation> ops)
    {
        auto result = co_await write_for_outcomes(std::move(ops));
        if (result.failure)
            co_return std::move(result.failure);
        for (auto& o : result.outcomes) {
            if (o.refused)
                co_return std::move(o.refused);
        }
        co_return std::nullopt;
    }

    // Reads and validates a chunk on the parser thread, so the io thread keeps answering requests meanwhile.
    // Not a coroutine (see off_loop).
    net::awaitable<job_chunk> read_chunk_off_loop(spool_reader& reader, job_type type, std::int64_t take)
    {
        return off_loop<job_chunk>([this, &reader, type, take](resumption<job_chunk> resume) {
            net::post(parser, [resume, &reader, type, take]() {
                // read_chunk reports its own failures in the chunk, so nothing is thrown here.
                auto work = [&] { return read_chunk(reader, type, take); };
                resume.deliver(work);
            });
        });
    }

    // Hands operations to the writer without waiting for them; finish_write() waits.
    std::shared_ptr<pending_write> start_write(std::vector<store_operation> ops)
    {
        auto pending = std::make_shared<pending_write>(io);
        ctx.writes.submit(std::move(ops), [this, pending](std::optional<api_error> outcome) {
            net::post(io, [pending, outcome = std::move(outcome)]() mutable {
                pending->outcome = std::move(outcome);
                pending->done.cancel();
            });
        });
        return pending;
    }

    // The outcome of a write started with start_write().
    net::awaitable<std::optional<api_error>> finish_write(const std::shared_ptr<pending_write>& pending)
    {
        while (!pending->outcome)
            co_await pending->done.async_wait(net::as_tuple(net::use_awaitable));
        co_return std::move(*pending->outcome);
    }

    // The next project, round-robin after the last one served, that has a job and a token; else how long to wait.
    std::pair<project_queue*, steady::duration> pick(steady::time_point now)
    {
        steady::duration shortest = steady::duration::max();
        auto visit = [&](auto begin, auto end) -> project_queue* {
            for (auto it = begin; it != end; ++it) {
                if (!it->second.held)
                    continue;
                if (it->second.held->cancel_noticed || it->second.bucket.unlimited() ||
                    it->second.bucket.available(now) >= 1) {
                    last_project = it->first;
                    return &it->second;
                }
                shortest = std::min<steady::duration>(shortest, it->second.bucket.wait_for(1, now));
            }
            return nullptr;
        };
        auto after = projects.upper_bound(last_project);
        if (auto* p = visit(after, projects.end()))
            return {p, {}};
        if (auto* p = visit(projects.begin(), after))
            return {p, {}};
        return {nullptr, shortest};
    }

    // The runner's loop: one chunk at a time until stopped.
    net::awaitable<void> run()
    {
        while (!stopping) {
            auto [project, wait] = pick(steady::now());
            if (!project) {
                wake.expires_after(wait == steady::duration::max() ? steady::duration(24h) : wait);
                co_await wake.async_wait(net::as_tuple(net::use_awaitable));
                continue;
            }
            co_await run_chunk(*project);
        }
    }

    // Marks a job failed because it cannot be processed at all.
    net::awaitable<void> fail_job(project_queue& project, std::shared_ptr<active_job> active, std::string reason)
    {
        std::vector<store_operation> fail;
        fail.push_back(
            finish_job{active->job.job_id, job_status::failed, reason, now_ms(), owner, active->processing_ms()});
        auto outcome = co_await write(std::move(fail));
        if (outcome && outcome->code == "lease_lost") {
            // Another daemon holds the job now (and may have finished it): it is not this one's to end.
            let_go(active, *outcome);
            co_return;
        }
        if (outcome) {
            co_await pause(retry_after_failure);
            co_return;
        }
        finished(project, active, job_status::failed, reason);
    }

    // Ends a job a client asked to cancel, at this chunk boundary: the rows committed so far stay, with their counts.
    net::awaitable<void> end_cancelled(project_queue& project, std::shared_ptr<active_job> active)
    {
        std::vector<store_operation> end;
        std::int64_t now = now_ms();
        std::int64_t processing_ms = active->processing_ms();
        end.push_back(cancelled_finish(active->job.job_id, now, owner, processing_ms));
        auto outcome = co_await write(std::move(end));
        if (outcome && outcome->code == "lease_lost") {
            // Ended already where the cancel was received (it had not started), or another daemon's now.
            release(active);
            co_return;
        }
        if (outcome) {
            co_await pause(retry_after_failure); // its next chunk is refused again, and this is tried again
            co_return;
        }
        job_record& j = active->job;
        j.status = job_status::failed;
        j.error = cancelled_job_error;
        j.finished_at = now;
        j.processing_ms = processing_ms;
        finished(project, active, job_status::failed, j.error);
    }

    // Waits on the runner's timer (woken early by new jobs, which is harmless here).
    net::awaitable<void> pause(steady::duration d)
    {
        net::steady_timer t(io, d);
        co_await t.async_wait(net::as_tuple(net::use_awaitable));
    }

    // Bookkeeping once a job's final state is committed: upload removed from the spool, logged, let go (and the project's next
    // job looked for).
    void finished(project_queue& project, const std::shared_ptr<active_job>& active, job_status status,
                  const std::optional<std::string>& reason)
    {
        active->reader.reset();
        known.erase(active->job.job_id);
        ctx.spool.remove_job(active->job.job_id);
        double run_seconds = std::chrono::duration<double>(steady::now() - active->started_at).count();
        double rate = run_seconds > 0 ? (active->job.processed_rows - active->processed_at_start) / run_seconds : 0;
        // The job's whole processing time, every daemon run together (its duration_seconds).
        double seconds = static_cast<double>(active->processing_ms()) / 1000.0;
        const job_record& j = active->job;
        bool cancelled = reason && *reason == cancelled_job_error;
        if (status == job_status::done)
            log_event(log_level::info, "job.done", "bulk job done",
                      {{"job_id", j.job_id},
                       {"project_id", j.project_id},
                       {"project", known_projects().name_of(j.project_id)},
                       {"type", to_string(j.type)},
                       {"total_rows", j.total_rows},
                       {"processed_rows", j.processed_rows},
                       {"failed_rows", j.failed_rows},
                       {"rows_per_second", rate},
                       {"duration_seconds", seconds}});
        else
            log_event(log_level::warn, "job.failed", reason.value_or("failed"),
                      {{"job_id", j.job_id},
                       {"project_id", j.project_id},
                       {"project", known_projects().name_of(j.project_id)},
                       {"type", to_string(j.type)},
                       {"total_rows", j.total_rows},
                       {"processed_rows", j.processed_rows},
                       {"failed_rows", j.failed_rows},
                       {"duration_seconds", seconds},
                       {"cancelled", cancelled}});
        auto& m = daemon_metrics();
        m.add("profiled_jobs_total", metric_labels({{"status", to_string(status)}}));
        m.observe("profiled_job_duration_seconds",
                  metric_labels({{"type", to_string(j.type)}, {"status", to_string(status)}}), seconds);
        if (status == job_status::done)
            m.set("profiled_last_job_done_timestamp_seconds", {}, static_cast<double>(now_ms()) / 1000.0);
        if (project.held == active)
            project.held.reset();
        request_claim();
    }

    // Reads, validates and applies the next chunk of the project's held job in one writer batch.
    net::awaitable<void> run_chunk(project_queue& project)
    {
        auto active = project.held;
        job_record& job = active->job;
        if (active->cancel_noticed) {
            co_await end_cancelled(project, active);
            co_return;
        }
        if (!active->reader) {
            std::string problem;
            try {
                active->reader = ctx.spool.open_job(job.job_id, job.checkpoint_offset, job.checkpoint_line);
            } catch (const spool_error& e) {
                problem = e.what();
            }
            // (co_await is not allowed inside a catch block.)
            if (!problem.empty()) {
                co_await fail_job(project, active, "the job's spool file is missing or unreadable: " + problem);
                co_return;
            }
        }

        job_chunk chunk;
        if (active->prefetched) {
            // Its rows were taken from the (unlimited) bucket when it was read.
            chunk = std::move(*active->prefetched);
            active->prefetched.reset();
        } else {
            double cap = project.bucket.unlimited() ? unlimited_chunk_rows
                                                    : std::min<double>(ctx.settings.rows_burst, unlimited_chunk_rows);
            double want = chunk_rows(cap, job.total_rows - job.processed_rows);
            auto take = static_cast<std::int64_t>(project.bucket.take_up_to(want, steady::now()));
            if (take < 1)
                co_return;
            chunk = co_await read_chunk_off_loop(*active->reader, job.type, take);
        }
        if (!chunk.read_problem.empty() && chunk.read_again) {
            // The store the spool lives in failed for now: read the chunk again from the checkpoint after a pause.
            log_event(log_level::error, "job.read_failed", chunk.read_problem, {{"job_id", job.job_id}});
            active->reader.reset();
            co_await pause(retry_after_failure);
            co_return;
        }
        if (!chunk.read_problem.empty()) {
            co_await fail_job(project, active, "the job's spool file cannot be read: " + chunk.read_problem);
            co_return;
        }
        std::int64_t rows = chunk.rows;
        std::int64_t take = chunk.wanted;

        job_record next = job;
        next.processed_rows += rows;
        next.failed_rows += static_cast<std::int64_t>(chunk.errors.size());
        next.checkpoint_offset = chunk.end_offset;
        next.checkpoint_line = chunk.end_line;
        bool end_of_job = next.processed_rows >= job.total_rows || rows < take;
        std::optional<job_status> status;
        std::optional<std::string> reason;
        if (end_of_job) {
            if (next.processed_rows < job.total_rows) {
                status = job_status::failed;
                reason = fmt::format("the spool file ended after {} of {} rows", next.processed_rows, job.total_rows);
            } else if (next.failed_rows == job.total_rows) {
                status = job_status::failed;
                reason = "every row failed validation; see the job's errors";
            } else {
                status = job_status::done;
            }
        }
        bool first_chunk = job.status == job_status::queued;
        // Once per daemon run that works on the job: a job resumed (after a restart, or from another daemon) too.
        if (!active->start_logged)
            log_event(log_level::info, "job.started", first_chunk ? "bulk job started" : "bulk job resumed",
                      {{"job_id", job.job_id},
                       {"project_id", job.project_id},
                       {"project", known_projects().name_of(job.project_id)},
                       {"type", to_string(job.type)},
                       {"total_rows", job.total_rows},
                       {"resumed", !first_chunk},
                       {"resumed_at_row", job.processed_rows}});
        active->start_logged = true;
        if (!active->processing_since)
            active->processing_since = steady::now();
        // Chosen here rather than in the writer, so that the runner's copy of the job agrees with the store.
        if (first_chunk)
            next.started_at = now_ms();

        std::size_t applied_rows = chunk.users.size() + chunk.companies.size();
        std::size_t failed_rows = chunk.errors.size();
        // Checkpoint and the chunk's rows in one batch: one transaction, so each row is applied exactly once.
        // The advance first: a lease lost meanwhile refuses the submission before any of its rows is written.
        std::vector<store_operation> apply;
        std::int64_t now = now_ms();
        std::optional<std::int64_t> started_at;
        if (first_chunk)
            started_at = next.started_at;
        next.processing_ms = active->processing_ms();
        apply.push_back(advance_job{next.job_id, owner, next.checkpoint_offset, next.checkpoint_line,
                                    next.processed_rows, next.failed_rows, std::move(chunk.errors), started_at,
                                    lease_until(now), next.processing_ms});
        // The companies the users rows name are created when new, as /v1/identify's company is, before the users.
        if (!chunk.user_companies.empty())
            apply.push_back(upsert_companies{next.project_id, std::move(chunk.user_companies), now});
        if (!chunk.users.empty())
            apply.push_back(upsert_users{next.project_id, std::move(chunk.users), now});
        if (!chunk.companies.empty())
            apply.push_back(upsert_companies{next.project_id, std::move(chunk.companies), now});
        if (status)
            apply.push_back(finish_job{next.job_id, *status, reason, now, std::nullopt, next.processing_ms});
        active->lease_renewed = steady::now();
        // A chunk is applied as a whole or not at all: refused only when the lease was lost, else applied, or its
        // transaction fails and it is read again.
        auto pending = start_write(std::move(apply));
        if (!status && project.bucket.unlimited()) {
            auto rows = static_cast<std::int64_t>(chunk_rows(unlimited_chunk_rows, job.total_rows - next.processed_rows));
            active->prefetched = co_await read_chunk_off_loop(*active->reader, job.type, rows);
        }
        auto outcome = co_await finish_write(pending);
        if (outcome && outcome->code == "lease_lost") {
            let_go(active, *outcome);
            co_return;
        }
        if (outcome && outcome->code == "job_cancelled") {
            // Asked for through another daemon (or before a restart): the chunk was undone with the refused advance.
            co_await end_cancelled(project, active);
            co_return;
        }
        if (outcome) {
            // Nothing of the chunk was applied: read it again from the checkpoint after a pause.
            log_event(log_level::error, "job.chunk_failed", outcome->message, {{"job_id", job.job_id}});
            active->reader.reset();
            active->prefetched.reset();
            co_await pause(retry_after_failure);
            co_return;
        }
        stats.rows_applied += applied_rows;
        stats.rows_failed += failed_rows;
        auto& m = daemon_metrics();
        m.add("profiled_rows_total", metric_labels({{"type", to_string(job.type)}, {"result", "applied"}}),
              static_cast<double>(applied_rows));
        if (failed_rows != 0)
            m.add("profiled_rows_total", metric_labels({{"type", to_string(job.type)}, {"result", "failed"}}),
                  static_cast<double>(failed_rows));
        if (first_chunk) {
            m.add("profiled_jobs_total", metric_labels({{"status", "running"}}));
            m.observe("profiled_job_queue_wait_seconds", {},
                      std::max<double>(0, static_cast<double>(now_ms() - job.submitted_at) / 1000.0));
        }
        if (first_chunk)
            next.status = job_status::running;
        job = next;
        remember(job);
        if (status) {
            job.status = *status;
            finished(project, active, *status, reason);
            co_return;
        }
        if (steady::now() - active->last_progress_log >= progress_log_interval) {
            active->last_progress_log = steady::now();
            double seconds = std::chrono::duration<double>(steady::now() - active->started_at).count();
            log_event(log_level::info, "job.progress", "bulk job progress",
                      {{"job_id", job.job_id},
                       {"project_id", job.project_id},
                       {"project", known_projects().name_of(job.project_id)},
                       {"processed_rows", job.processed_rows},
                       {"failed_rows", job.failed_rows},
                       {"total_rows", job.total_rows},
                       {"rows_per_second",
                        seconds > 0 ? (job.processed_rows - active->processed_at_start) / seconds : 0.0}});
        }
    }
};

job_runner::job_runner(net::io_context& io, server_context& ctx) : impl_(std::make_unique<impl>(io, ctx)) {}
job_runner::~job_runner() = default;

void job_runner::recover()
{
    // Before listening, on the thread that will run the io context: the reader is this thread's.
    std::vector<job_record> unfinished = impl_->ctx.reader.unfinished_jobs();
    // The recovered jobs' log lines name their projects, before any request has brought a key of them.
    for (const auto& key : impl_->ctx.reader.list_keys())
        known_projects().remember(key.project_id, key.project);
    std::set<std::string> cancelled = impl_->let_go_of_last_run(unfinished);
    for (const auto& id : cancelled)
        impl_->ctx.spool.remove_job(id);
    std::erase_if(unfinished, [&](const job_record& j) { return cancelled.count(j.job_id) != 0; });

    std::vector<std::string> ids;
    for (const auto& j : unfinished)
        ids.push_back(j.job_id);
    spool_recovery found = impl_->ctx.spool.recover(ids);
    std::set<std::string> lost_jobs(found.lost_jobs.begin(), found.lost_jobs.end());
    std::int64_t removed = found.removed;
    int resumed = 0, lost = 0;
    for (auto& j : unfinished) {
        if (!lost_jobs.count(j.job_id)) {
            // Claimed once the runner starts, like every job: this daemon only learns of it here.
            impl_->remember(std::move(j));
            ++resumed;
            continue;
        }
        ++lost;
        auto done = std::make_shared<std::promise<std::optional<api_error>>>();
        impl_->ctx.writes.submit(
            {finish_job{j.job_id, job_status::failed, "the job's spool file was lost before the job finished",
                        now_ms()}},
            [done](std::optional<api_error> e) { done->set_value(std::move(e)); });
        done->get_future().get();
        log_event(
            log_level::error, "job.failed", "spool file lost",
            {{"job_id", j.job_id}, {"project_id", j.project_id}, {"project", known_projects().name_of(j.project_id)}});
    }
    log_event(log_level::info, "jobs.recovered", "recovered unfinished jobs",
              {{"resumed", resumed}, {"lost", lost}, {"spool_files_removed", removed}});
}

void job_runner::start()
{
    impl_->running = true;
    net::co_spawn(impl_->io, impl_->run(), fail_loudly{"job runner"});
    net::co_spawn(impl_->io, impl_->claim_jobs(), fail_loudly{"job claimer"});
}

void job_runner::add_job(job_record job)
{
    net::post(impl_->io, [this, job = std::move(job)]() mutable {
        impl_->remember(std::move(job));
        impl_->request_claim();
    });
}

void job_runner::stop()
{
    impl_->stopping = true;
    impl_->wake.cancel();
    impl_->claim_wake.cancel();
}

void job_runner::set_rate(double rows_per_minute, double burst)
{
    auto now = steady::now();
    for (auto& [id, project] : impl_->projects)
        project.bucket.reconfigure({rows_per_minute / 60.0, burst}, now);
}

std::uint64_t job_runner::queued_jobs(std::int64_t project_id) const
{
    std::uint64_t n = 0;
    for (const auto& [id, known] : impl_->known) {
        if (known.job.project_id == project_id)
            ++n;
    }
    return n;
}

std::optional<job_record> job_runner::find_active(std::int64_t project_id, const std::string& job_id) const
{
    auto it = impl_->known.find(job_id);
    if (it == impl_->known.end() || it->second.job.project_id != project_id)
        return std::nullopt;
    // Only a job worked on here is known better here than in the store: another daemon may be running the rest.
    if (!impl_->holds(job_id))
        return std::nullopt;
    return it->second.job;
}

void job_runner::cancel_requested(const job_record& job)
{
    net::post(impl_->io, [this, job] {
        auto project = impl_->projects.find(job.project_id);
        bool held = project != impl_->projects.end() && project->second.held &&
                    project->second.held->job.job_id == job.job_id;
        if (held) {
            // Ended where it stands, before its next chunk, whatever its project's row rate has left; status polls
            // answered from this daemon's copy show the request meanwhile.
            project->second.held->cancel_noticed = true;
            project->second.held->job.cancel_requested_at = job.cancel_requested_at;
            if (auto known = impl_->known.find(job.job_id); known != impl_->known.end())
                known->second.job.cancel_requested_at = job.cancel_requested_at;
            impl_->wake.cancel();
            return;
        }
        if (job.status == job_status::failed)
            impl_->known.erase(job.job_id);
    });
}

runner_stats job_runner::stats() const
{
    runner_stats s = impl_->stats;
    for (const auto& [id, known] : impl_->known) {
        if (known.job.status == job_status::running)
            ++s.running_jobs;
        else
            ++s.queued_jobs;
    }
    return s;
}

} // namespace profiled
