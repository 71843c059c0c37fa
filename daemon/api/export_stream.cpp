#include "daemon/api/export_stream.hpp"

#include "common/ops/log.hpp"
#include "daemon/serve/export_channel.hpp"

namespace profiled {

namespace net = boost::asio;

export_stream::export_stream(std::shared_ptr<export_channel> channel, std::shared_ptr<void> slot, std::string what,
                             std::int64_t project, std::chrono::seconds page_timeout,
                             std::chrono::seconds write_timeout)
    : channel_(std::move(channel)), slot_(std::move(slot)), what_(std::move(what)), project_(project),
      page_timeout_(page_timeout), write_timeout_(write_timeout)
{
}

export_stream::~export_stream()
{
    channel_->cancel();
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    if (at_end_)
        log_event(log_level::info, "export.done", "export sent whole",
                  {{"type", what_}, {"project_id", project_}, {"rows", rows_}, {"duration_seconds", seconds}});
    else
        log_event(log_level::warn, "export.cut", "export ended before its last row (client gone or failure)",
                  {{"type", what_}, {"project_id", project_}, {"rows", rows_}, {"duration_seconds", seconds}});
}

net::awaitable<void> export_stream::start()
{
    auto piece = co_await channel_->pop(page_timeout_);
    if (!piece) {
        at_end_ = true;
        slot_.reset();
        co_return;
    }
    rows_ += piece->rows;
    first_ = std::move(piece->lines);
}

net::awaitable<std::optional<std::string>> export_stream::next()
{
    if (first_) {
        std::optional<std::string> out = std::move(first_);
        first_.reset();
        co_return out;
    }
    if (at_end_)
        co_return std::nullopt;
    auto piece = co_await channel_->pop(page_timeout_);
    if (!piece) {
        at_end_ = true;
        slot_.reset(); // before the last chunk goes out: its client may start the next export at once
        co_return std::nullopt;
    }
    rows_ += piece->rows;
    co_return std::move(piece->lines);
}

std::vector<std::pair<std::string, std::string>> export_stream::trailers()
{
    return {{export_rows_trailer, std::to_string(rows_)}};
}

} // namespace profiled
