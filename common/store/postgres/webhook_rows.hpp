// Webhooks in PostgreSQL: registration, removal, the delivery thread's claims and attempts, and the endpoints' reads.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/api_error.hpp"
#include "common/store/store_operations.hpp"
#include "common/store/webhook_records.hpp"

namespace profiled {

class pg_connection;

// Inserts the webhook, or refuses it (webhook_limit) when its project has the most it may have.
std::optional<api_error> pg_create_webhook(pg_connection& db, const create_webhook& c);
// Removes the project's webhook with its deliveries and attempts; 1 when it was there, else 0.
std::int64_t pg_delete_webhook(pg_connection& db, const delete_webhook& d);
// Leases the due pending deliveries no other daemon is claiming (FOR UPDATE SKIP LOCKED) to c.owner and returns
// them with their webhooks and jobs.
std::vector<delivery_task> pg_claim_deliveries(pg_connection& db, const claim_deliveries& c);
// Records an attempt at owner's delivery and its new state; lease_lost when owner does not hold it.
std::optional<api_error> pg_record_delivery_attempt(pg_connection& db, const record_delivery_attempt& r);

// The project's webhooks, oldest first.
std::vector<webhook_record> pg_read_webhooks(pg_connection& db, std::int64_t project_id);
// The project's webhook with this id.
std::optional<webhook_record> pg_read_webhook(pg_connection& db, std::int64_t project_id, const std::string& id);
// The project's webhook's attempts newest first, after the cursor; nothing for a cursor this engine did not make.
std::optional<delivery_attempt_page> pg_read_delivery_attempts(pg_connection& db, std::int64_t project_id,
                                                               const std::string& webhook_id,
                                                               const std::optional<std::string>& cursor, int limit);
// Deliveries still pending, all projects, and when the next one nobody holds at now is due.
delivery_backlog pg_read_delivery_backlog(pg_connection& db, std::int64_t now);

} // namespace profiled
