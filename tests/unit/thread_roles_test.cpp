// Thread priorities: background work gives way to requests, and a thread lowered for a while comes back.
#include <cerrno>
#include <thread>

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "common/ops/thread_roles.hpp"

namespace {

// The calling thread's nice value.
int this_thread_nice()
{
    errno = 0;
    return getpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)));
}

// Whether this process may raise a thread's priority back (as the suite does when it runs as root).
bool may_raise_priority() { return geteuid() == 0; }

} // namespace

TEST_CASE("background_while lowers the thread for its scope and restores the priority it had", "[thread_roles]")
{
    std::thread t([] {
        int before = this_thread_nice();
        {
            profiled::background_while yielding;
            if (may_raise_priority())
                CHECK(this_thread_nice() == 10);
            else
                CHECK(this_thread_nice() == before); // nothing changes where it could not be undone
        }
        CHECK(this_thread_nice() == before);
        // Twice in a row: the check of what the system allows is made once and kept.
        {
            profiled::background_while yielding;
        }
        CHECK(this_thread_nice() == before);
    });
    t.join();
}

TEST_CASE("background_while leaves a thread already at background priority as it is", "[thread_roles]")
{
    std::thread t([] {
        profiled::make_this_thread_background();
        int before = this_thread_nice();
        {
            profiled::background_while yielding;
            CHECK(this_thread_nice() == before);
        }
        CHECK(this_thread_nice() == before);
    });
    t.join();
}
