#include "daemon/serve/server_context.hpp"

#include <chrono>

#include "daemon/serve/off_loop.hpp"

namespace profiled {

boost::asio::awaitable<std::optional<api_error>> written(server_context& ctx, writer::work work,
                                                         writer::write_kind kind)
{
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(ctx.settings.request_timeout_seconds);
    return off_loop<std::optional<api_error>>(
        [&ctx, work = std::move(work), kind, until](resumption<std::optional<api_error>> resume) mutable {
            ctx.writes.submit(std::move(work), [resume](std::optional<api_error> outcome) { resume(std::move(outcome)); },
                              kind, until);
        });
}

} // namespace profiled
