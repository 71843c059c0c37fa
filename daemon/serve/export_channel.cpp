#include "daemon/serve/export_channel.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "common/api_error.hpp"
#include "daemon/api/store_failures.hpp"

namespace profiled {

namespace net = boost::asio;

export_channel::export_channel(net::any_io_executor io, std::size_t capacity) : io_(std::move(io)), capacity_(capacity)
{
}

bool export_channel::push(export_piece piece)
{
    std::unique_lock lock(mutex_);
    room_.wait(lock, [this] { return cancelled_ || queue_.size() < capacity_; });
    if (cancelled_)
        return false;
    queue_.push_back(std::move(piece));
    if (waiting_) {
        auto resume = std::move(*waiting_);
        waiting_.reset();
        deliver(resume);
        if (cancel_timer_)
            cancel_timer_();
    }
    return true;
}

void export_channel::finish(std::exception_ptr failure)
{
    std::lock_guard lock(mutex_);
    finished_ = true;
    failure_ = std::move(failure);
    if (waiting_) {
        auto resume = std::move(*waiting_);
        waiting_.reset();
        deliver(resume);
        if (cancel_timer_)
            cancel_timer_();
    }
}

bool export_channel::deliver(const waiter& resume)
{
    if (!queue_.empty()) {
        auto piece = std::move(queue_.front());
        queue_.pop_front();
        room_.notify_one();
        resume(std::move(piece));
        return true;
    }
    if (!finished_)
        return false;
    if (failure_)
        resume.fail(failure_);
    else
        resume(std::nullopt);
    return true;
}

net::awaitable<std::optional<export_piece>> export_channel::pop(std::chrono::seconds timeout)
{
    auto self = shared_from_this();
    return off_loop<std::optional<export_piece>>([self, timeout](waiter resume) {
        std::lock_guard lock(self->mutex_);
        if (self->deliver(resume))
            return;
        self->waiting_ = resume;
        // The timer owns itself through its wait; the producer cancels it through a weak pointer, on the io thread.
        auto timer = std::make_shared<net::steady_timer>(self->io_, timeout);
        timer->async_wait([timer, resume](const boost::system::error_code& ec) {
            if (!ec)
                resume.fail(std::make_exception_ptr(api_exception(store_timeout_error())));
        });
        std::weak_ptr<net::steady_timer> weak = timer;
        self->cancel_timer_ = [io = self->io_, weak] {
            net::post(io, [weak] {
                if (auto t = weak.lock())
                    t->cancel();
            });
        };
    });
}

void export_channel::cancel()
{
    std::lock_guard lock(mutex_);
    cancelled_ = true;
    queue_.clear();
    waiting_.reset();
    room_.notify_all();
}

} // namespace profiled
