// The one bridge between coroutines on the io thread and the threads that block (the writer, the readers, the
// spool thread): work runs elsewhere, and the coroutine waiting for it goes on, on its own executor, with the
// work's result or rethrowing its exception.
#pragma once

#include <atomic>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <utility>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace profiled {

// Resumes a coroutine waiting in off_loop, from any thread. The first call wins and later ones are dropped, so a
// result may race a timeout; copies share that one outcome.
template <typename T>
class resumption {
public:
    // Wraps the function that hands the outcome to the waiting coroutine.
    explicit resumption(std::function<void(std::exception_ptr, T)> resume)
        : state_(std::make_shared<state>(std::move(resume)))
    {
    }
    // Resumes the coroutine with value, unless it was resumed already.
    void operator()(T value) const
    {
        if (!state_->resumed.exchange(true))
            state_->resume(nullptr, std::move(value));
    }
    // Resumes the coroutine by rethrowing e in it, unless it was resumed already.
    void fail(std::exception_ptr e) const
    {
        if (!state_->resumed.exchange(true))
            state_->resume(std::move(e), T{});
    }
    // Runs work and resumes the coroutine with what it returns, or with what it throws.
    template <typename Work>
    void deliver(Work& work) const
    {
        std::optional<T> value;
        try {
            value.emplace(work());
        } catch (...) {
            return fail(std::current_exception());
        }
        (*this)(std::move(*value));
    }

private:
    struct state {
        explicit state(std::function<void(std::exception_ptr, T)> r) : resume(std::move(r)) {}
        std::atomic<bool> resumed{false};
        std::function<void(std::exception_ptr, T)> resume;
    };
    std::shared_ptr<state> state_;
};

// Calls start(resumption<T>) at once and suspends the coroutine until the resumption is called; T must be default
// constructible. Not a coroutine itself: start is moved into the operation, which sidesteps GCC 12's mishandling
// of temporaries inside co_await expressions (callers still build lambdas outside co_await expressions).
template <typename T, typename Start>
boost::asio::awaitable<T> off_loop(Start start)
{
    return boost::asio::async_initiate<const boost::asio::use_awaitable_t<>&, void(std::exception_ptr, T)>(
        [start = std::move(start)](auto handler) mutable {
            auto shared = std::make_shared<decltype(handler)>(std::move(handler));
            start(resumption<T>([shared](std::exception_ptr e, T value) {
                auto ex = boost::asio::get_associated_executor(*shared);
                boost::asio::post(ex, [shared, e = std::move(e), value = std::move(value)]() mutable {
                    (*shared)(std::move(e), std::move(value));
                });
            }));
        },
        boost::asio::use_awaitable);
}

} // namespace profiled
