#include "daemon/serve/reader_pool.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "common/api_error.hpp"
#include "common/ops/log.hpp"
#include "daemon/api/store_failures.hpp"
#include "daemon/serve/off_loop.hpp"
#include "daemon/serve/store_health.hpp"

namespace profiled {

namespace net = boost::asio;

reader_pool::reader_pool(store& db, net::io_context& io, std::size_t threads, std::chrono::seconds timeout,
                         store_health* health)
    : io_(io), timeout_(timeout), health_(health)
{
    for (std::size_t i = 0; i < threads; ++i)
        readers_.push_back(db.open_reader());
    for (auto& reader : readers_)
        threads_.emplace_back([this, &r = *reader] { run_thread(r); });
}

reader_pool::~reader_pool() { stop(); }

void reader_pool::stop()
{
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
        wake_.notify_all();
    }
    for (auto& t : threads_) {
        if (t.joinable())
            t.join();
    }
}

net::awaitable<bool> reader_pool::run_job(read_job job)
{
    return off_loop<bool>([this, job = std::move(job)](resumption<bool> resume) mutable {
        auto cancel = start_deadline([resume](std::exception_ptr timeout) { resume.fail(std::move(timeout)); });
        post([this, job = std::move(job), resume, cancel](store_reader& reader) mutable {
            auto work = [&] {
                try {
                    job(reader);
                } catch (const store_error& e) {
                    if (health_)
                        health_->failed(e);
                    throw;
                }
                if (health_)
                    health_->reached();
                return true;
            };
            resume.deliver(work);
            cancel();
        });
    });
}

void reader_pool::post(read_job job)
{
    std::lock_guard lock(mutex_);
    pending_.push_back(std::move(job));
    wake_.notify_one();
}

std::function<void()> reader_pool::start_deadline(std::function<void(std::exception_ptr)> expire)
{
    // The timer owns itself through its wait; cancel holds it weakly, so a read that outlives the io context
    // touches no timer.
    auto timer = std::make_shared<net::steady_timer>(io_, timeout_);
    timer->async_wait([timer, expire = std::move(expire)](const boost::system::error_code& ec) {
        if (!ec)
            expire(std::make_exception_ptr(api_exception(store_timeout_error())));
    });
    std::weak_ptr<net::steady_timer> weak = timer;
    return [&io = io_, weak] {
        net::post(io, [weak] {
            if (auto t = weak.lock())
                t->cancel();
        });
    };
}

void reader_pool::run_thread(store_reader& reader)
{
    for (;;) {
        read_job next;
        {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [this] { return stopping_ || !pending_.empty(); });
            if (pending_.empty())
                return;
            next = std::move(pending_.front());
            pending_.pop_front();
        }
        try {
            next(reader);
        } catch (const std::exception& e) {
            // A read's own failures go back to its coroutine; this is only what escaped that.
            log_event(log_level::error, "reader.job_failed", e.what());
        }
    }
}

} // namespace profiled
