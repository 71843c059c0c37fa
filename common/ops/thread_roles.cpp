#include "common/ops/thread_roles.hpp"

#include <pthread.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <thread>

namespace profiled {

namespace {
// Background threads' nice value: a weight of about a tenth of a normal thread's when both are runnable.
constexpr int background_nice = 10;

// The calling thread's id, which setpriority takes for one thread (PRIO_PROCESS with a thread id).
id_t this_thread_id() { return static_cast<id_t>(syscall(SYS_gettid)); }

// Whether a thread lowered to the background priority may go back: tried once, on a thread of its own.
bool can_raise_priority_again()
{
    static const bool allowed = [] {
        bool ok = false;
        std::thread probe([&ok] {
            errno = 0;
            int current = getpriority(PRIO_PROCESS, this_thread_id());
            if (errno != 0 || current >= background_nice)
                return;
            ok = setpriority(PRIO_PROCESS, this_thread_id(), background_nice) == 0 &&
                 setpriority(PRIO_PROCESS, this_thread_id(), current) == 0;
        });
        probe.join();
        return ok;
    }();
    return allowed;
}
} // namespace

void name_this_thread(const char* name) { pthread_setname_np(pthread_self(), name); }

void make_this_thread_background()
{
    // On Linux a thread's nice value is its own: PRIO_PROCESS with the thread id changes only this thread.
    setpriority(PRIO_PROCESS, this_thread_id(), background_nice);
}

background_while::background_while()
{
    if (!can_raise_priority_again())
        return;
    errno = 0;
    restore_ = getpriority(PRIO_PROCESS, this_thread_id());
    lowered_ = errno == 0 && restore_ < background_nice &&
               setpriority(PRIO_PROCESS, this_thread_id(), background_nice) == 0;
}

background_while::~background_while()
{
    if (lowered_)
        setpriority(PRIO_PROCESS, this_thread_id(), restore_);
}

} // namespace profiled
