// Webhooks as the store keeps them: a project's receivers, the deliveries of its jobs' ends, and their attempts.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/profiles/profile.hpp"

namespace profiled {

// A registered receiver of a project's job events.
struct webhook_record {
    std::string webhook_id; // "wh_" + 16 base62
    std::int64_t project_id = 0;
    std::string url;
    bool on_done = false;   // sends job.done
    bool on_failed = false; // sends job.failed
    std::string secret;     // the HMAC-SHA256 key
    std::int64_t created_at = 0;
};

// Where a delivery stands: still to be sent (or retried), accepted by the receiver, or given up.
enum class delivery_state { pending, delivered, failed };

// "pending", "delivered", "failed".
std::string_view to_string(delivery_state s);
// The state a stored text names; pending for anything else.
delivery_state parse_delivery_state(std::string_view text);

// The event a job's end sends: "job.done" or "job.failed".
std::string_view job_event_name(job_status status);

// One attempt at a delivery, with the delivery it belongs to, as the deliveries endpoint shows it.
struct delivery_attempt_record {
    std::int64_t row_id = 0; // the attempt's own row: the page cursor's position
    std::string delivery_id;
    std::string event;
    std::string job_id;
    std::int64_t attempt = 0;
    std::optional<std::int64_t> status_code; // none when no answer came
    std::optional<std::string> error;        // none when delivered
    std::int64_t at = 0;
    delivery_state state = delivery_state::pending; // the delivery's state now
};

// A page of a webhook's attempts, newest first.
struct delivery_attempt_page {
    std::vector<delivery_attempt_record> attempts;
    std::optional<std::string> next_cursor; // opaque: the engine's own, handed back for the next page
};

// The deliveries waiting, all projects together.
struct delivery_backlog {
    std::int64_t pending = 0;             // not yet delivered nor given up
    std::optional<std::int64_t> next_due; // the earliest next attempt among those nobody holds a live lease on
};

// A delivery claimed for sending: what the request needs.
struct delivery_task {
    std::string delivery_id;
    std::string event;
    std::int64_t created_at = 0;
    std::int64_t attempts_made = 0; // attempts before this one
    std::string url;
    std::string secret;
    std::int64_t project_id = 0;
    job_record job; // the ended job, as GET shows it
};

} // namespace profiled
