// The delivery thread: sends the outbox's due webhook deliveries, several at once, and records every attempt.
#pragma once

#include <memory>
#include <string>

namespace profiled {

class store;
class writer;
struct server_settings;

class webhook_sender {
public:
    // Reads what is due with a reader of db of its own, claims and records through writes (leases in owner's
    // name, so another daemon on the same database sends none of them meanwhile), with the webhook-* settings.
    webhook_sender(store& db, writer& writes, const server_settings& settings, std::string owner);
    ~webhook_sender();
    webhook_sender(const webhook_sender&) = delete;
    webhook_sender& operator=(const webhook_sender&) = delete;

    // Starts the thread; the first claim takes back what owner's last run held when it ended.
    void start();
    // Ends the thread; attempts in flight are abandoned, and tried again once their leases run out (or at the
    // next start under the same owner). Call before the writer stops.
    void stop();

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

} // namespace profiled
