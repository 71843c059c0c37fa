#include "daemon/webhooks/webhook_sender.hpp"

#include <atomic>
#include <random>
#include <thread>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/serialize.hpp>
#include <fmt/format.h>

#include "common/ops/clock.hpp"
#include "common/ops/log.hpp"
#include "common/ops/metrics.hpp"
#include "common/ops/settings.hpp"
#include "common/ops/thread_roles.hpp"
#include "common/profiles/profile_json.hpp"
#include "common/store/store.hpp"
#include "daemon/serve/off_loop.hpp"
#include "daemon/serve/writer.hpp"
#include "daemon/webhooks/delivery_attempt.hpp"
#include "daemon/webhooks/retry_schedule.hpp"
#include "daemon/webhooks/webhook_signature.hpp"

namespace profiled {

namespace net = boost::asio;
namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

// Attempts in flight at once, all webhooks together.
constexpr int max_in_flight = 16;
// How often the outbox is looked at when nothing wakes the thread sooner (an attempt ending does).
constexpr auto poll_interval = 200ms;
// A claimed delivery stays this daemon's so much longer than an attempt may take.
constexpr std::int64_t lease_margin_ms = 5000;

// The delivery's body: {"id", "type", "created_at", "data": the job as GET shows it}.
std::string delivery_body(const delivery_task& t)
{
    return json::serialize(json::object{{"id", t.delivery_id},
                                        {"type", t.event},
                                        {"created_at", format_rfc3339(t.created_at)},
                                        {"data", job_to_json(t.job)}});
}

} // namespace

struct webhook_sender::impl {
    impl(store& db, writer& w, const server_settings& s, std::string o)
        : db(db), writes(w), owner(std::move(o)), retry_base(s.webhook_retry_base_seconds),
          max_attempts(s.webhook_max_attempts),
          timeout(std::chrono::milliseconds(static_cast<std::int64_t>(s.webhook_timeout_seconds * 1000))),
          tls(s.webhook_ca_file), network{tls, s.webhook_allow_private, timeout}, tick(io),
          random(std::random_device{}())
    {
    }

    // Looks at the outbox again and again, claiming what is due while there is room for more attempts.
    net::awaitable<void> run();
    // Claims up to room due deliveries through the writer.
    net::awaitable<std::vector<delivery_task>> claim(int room, bool take_back_own);
    // Makes one attempt at a claimed delivery and records it.
    net::awaitable<void> deliver(delivery_task task);
    // Records the attempt through the writer; whether the writer took it.
    net::awaitable<bool> record(record_delivery_attempt attempt);

    store& db;
    writer& writes;
    std::string owner;
    double retry_base;
    std::int64_t max_attempts;
    std::chrono::milliseconds timeout;
    net::io_context io{1};
    tls_trust tls;
    delivery_network network;
    net::steady_timer tick;
    std::unique_ptr<store_reader> reader;
    std::mt19937_64 random;
    int in_flight = 0; // the sender thread's only
    std::atomic<bool> stopping{false};
    std::thread thread;
};

net::awaitable<std::vector<delivery_task>> webhook_sender::impl::claim(int room, bool take_back_own)
{
    std::int64_t now = now_ms();
    std::vector<store_operation> ops;
    ops.push_back(claim_deliveries{owner, now, now + timeout.count() + lease_margin_ms, room, take_back_own});
    auto start = [this, ops = std::move(ops)](resumption<std::vector<delivery_task>> resume) mutable {
        writer::outcomes_completion done = [resume](std::optional<api_error> failure,
                                                    std::vector<operation_outcome> outcomes) {
            if (failure || outcomes.empty())
                return resume({});
            resume(std::move(outcomes.front().deliveries));
        };
        writes.submit(std::move(ops), std::move(done));
    };
    auto claimed = off_loop<std::vector<delivery_task>>(std::move(start));
    co_return co_await std::move(claimed);
}

net::awaitable<bool> webhook_sender::impl::record(record_delivery_attempt attempt)
{
    std::vector<store_operation> ops;
    ops.push_back(std::move(attempt));
    auto start = [this, ops = std::move(ops)](resumption<int> resume) mutable {
        writer::completion done = [resume](std::optional<api_error> refused) { resume(refused ? 0 : 1); };
        writes.submit(std::move(ops), std::move(done));
    };
    auto answered = off_loop<int>(std::move(start));
    int taken = co_await std::move(answered);
    co_return taken != 0;
}

net::awaitable<void> webhook_sender::impl::deliver(delivery_task task)
{
    auto started = std::chrono::steady_clock::now();
    std::string body = delivery_body(task);
    auto target = parse_webhook_url(task.url);
    attempt_result result;
    std::string host;
    if (!target) {
        result.error = "the webhook's url is not valid";
    } else {
        host = target->host;
        attempt_request request{*target, body, webhook_signature(task.secret, now_ms() / 1000, body), task.delivery_id};
        auto send = send_attempt(network, request);
        result = co_await std::move(send);
    }
    std::int64_t attempt = task.attempts_made + 1;
    std::int64_t now = now_ms();
    record_delivery_attempt rec{task.delivery_id, owner, attempt, result.status_code, result.error, now};
    double delay = 0;
    if (result.delivered()) {
        rec.state = delivery_state::delivered;
    } else if (attempt >= max_attempts) {
        rec.state = delivery_state::failed;
    } else {
        rec.state = delivery_state::pending;
        delay = retry_delay(retry_base, attempt, std::uniform_real_distribution<double>(0, 1)(random));
        rec.next_attempt_at = now + static_cast<std::int64_t>(delay * 1000);
    }
    delivery_state state = rec.state;
    auto recording = record(std::move(rec));
    bool recorded = co_await std::move(recording);
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::int64_t status = result.status_code.value_or(0);
    std::string error = result.error.value_or("");
    if (!recorded) {
        // Another daemon took it over, or the webhook was deleted meanwhile: its record is not this attempt's.
        log_event(log_level::warn, "webhook.attempt_unrecorded", "a delivery attempt could not be recorded",
                  {{"delivery_id", task.delivery_id}, {"job_id", task.job.job_id}, {"attempt", attempt}});
    } else if (state == delivery_state::delivered) {
        daemon_metrics().add("profiled_webhook_deliveries_total", metric_labels({{"outcome", "delivered"}}));
        log_event(log_level::info, "webhook.delivered", "webhook delivered",
                  {{"delivery_id", task.delivery_id},
                   {"project_id", task.project_id},
                   {"job_id", task.job.job_id},
                   {"webhook_event", task.event},
                   {"host", host},
                   {"attempt", attempt},
                   {"status_code", status},
                   {"duration_seconds", seconds}});
    } else if (state == delivery_state::failed) {
        daemon_metrics().add("profiled_webhook_deliveries_total", metric_labels({{"outcome", "failed"}}));
        log_event(log_level::warn, "webhook.failed", "webhook delivery failed for good after its last attempt",
                  {{"delivery_id", task.delivery_id},
                   {"project_id", task.project_id},
                   {"job_id", task.job.job_id},
                   {"webhook_event", task.event},
                   {"host", host},
                   {"attempt", attempt},
                   {"status_code", status},
                   {"error", error}});
    } else {
        daemon_metrics().add("profiled_webhook_deliveries_total", metric_labels({{"outcome", "retry"}}));
        log_event(log_level::info, "webhook.retrying", "webhook attempt failed; it will be tried again",
                  {{"delivery_id", task.delivery_id},
                   {"project_id", task.project_id},
                   {"job_id", task.job.job_id},
                   {"webhook_event", task.event},
                   {"host", host},
                   {"attempt", attempt},
                   {"status_code", status},
                   {"error", error},
                   {"retry_in_seconds", delay}});
    }
    --in_flight;
    tick.cancel(); // room for another: look at the outbox now
}

net::awaitable<void> webhook_sender::impl::run()
{
    bool first = true;
    bool store_failing = false;
    while (!stopping) {
        std::int64_t now = now_ms();
        std::optional<delivery_backlog> backlog;
        try {
            backlog = reader->webhook_backlog(now);
            store_failing = false;
        } catch (const std::exception& e) {
            if (!store_failing)
                log_event(log_level::warn, "webhook.outbox_unreadable", "the webhook outbox cannot be read for now",
                          {{"error", e.what()}});
            store_failing = true;
        }
        if (backlog) {
            daemon_metrics().set("profiled_webhook_queue_depth", {}, static_cast<double>(backlog->pending));
            int room = max_in_flight - in_flight;
            bool due = backlog->next_due && *backlog->next_due <= now;
            // The first look also takes back what this owner held when its last run ended (in flight at a crash).
            bool take_back = first && backlog->pending > 0;
            first = false;
            if (room > 0 && (take_back || due)) {
                auto claiming = claim(room, take_back);
                auto claimed = co_await std::move(claiming);
                for (auto& task : claimed) {
                    ++in_flight;
                    auto attempt = deliver(std::move(task));
                    auto on_end = [](std::exception_ptr e) {
                        if (!e)
                            return;
                        try {
                            std::rethrow_exception(e);
                        } catch (const std::exception& ex) {
                            log_event(log_level::error, "webhook.attempt_failed", "a delivery attempt broke",
                                      {{"error", ex.what()}});
                        }
                    };
                    net::co_spawn(io, std::move(attempt), on_end);
                }
                if (static_cast<int>(claimed.size()) == room && room > 0)
                    continue; // more may be due
            }
        }
        tick.expires_after(poll_interval);
        co_await tick.async_wait(net::as_tuple(net::use_awaitable));
    }
}

webhook_sender::webhook_sender(store& db, writer& writes, const server_settings& settings, std::string owner)
    : impl_(std::make_unique<impl>(db, writes, settings, std::move(owner)))
{
}

webhook_sender::~webhook_sender() { stop(); }

void webhook_sender::start()
{
    impl_->reader = impl_->db.open_reader();
    auto loop = impl_->run();
    auto on_end = [](std::exception_ptr e) {
        if (!e)
            return;
        try {
            std::rethrow_exception(e);
        } catch (const std::exception& ex) {
            log_event(log_level::error, "webhook.sender_failed", "the webhook delivery loop ended",
                      {{"error", ex.what()}});
        }
    };
    net::co_spawn(impl_->io, std::move(loop), on_end);
    impl_->thread = std::thread([this] {
        name_this_thread("webhooks");
        impl_->io.run();
    });
}

void webhook_sender::stop()
{
    if (!impl_->thread.joinable())
        return;
    impl_->stopping = true;
    impl_->io.stop();
    impl_->thread.join();
}

} // namespace profiled
