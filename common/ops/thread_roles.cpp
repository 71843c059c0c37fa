#include "common/ops/thread_roles.hpp"

#include <pthread.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace profiled {

namespace {
// Background threads' nice value: a weight of about a tenth of a normal thread's when both are runnable.
constexpr int background_nice = 10;
} // namespace

void name_this_thread(const char* name) { pthread_setname_np(pthread_self(), name); }

void make_this_thread_background()
{
    // On Linux a thread's nice value is its own: PRIO_PROCESS with the thread id changes only this thread.
    setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), background_nice);
}

} // namespace profiled
