#include "daemon/serve/server_context.hpp"

#include <chrono>

#include "daemon/serve/off_loop.hpp"

namespace profiled {

namespace {
// The moment a write started now must be begun by.
writer::deadline request_deadline(const server_context& ctx)
{
    return std::chrono::steady_clock::now() + std::chrono::seconds(ctx.settings.request_timeout_seconds);
}
} // namespace

boost::asio::awaitable<std::optional<api_error>> written(server_context& ctx, std::vector<store_operation> ops)
{
    return off_loop<std::optional<api_error>>(
        [&ctx, ops = std::move(ops), until = request_deadline(ctx)](resumption<std::optional<api_error>> resume) mutable {
            ctx.writes.submit(
                std::move(ops), [resume](std::optional<api_error> outcome) { resume(std::move(outcome)); }, until);
        });
}

boost::asio::awaitable<write_result> written_outcomes(server_context& ctx, std::vector<store_operation> ops)
{
    return off_loop<write_result>(
        [&ctx, ops = std::move(ops), until = request_deadline(ctx)](resumption<write_result> resume) mutable {
            ctx.writes.submit(
                std::move(ops),
                [resume](std::optional<api_error> failure, std::vector<operation_outcome> outcomes) {
                    resume(write_result{std::move(failure), std::move(outcomes)});
                },
                until);
        });
}

} // namespace profiled
