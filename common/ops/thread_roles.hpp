// What each of the daemon's threads is, as the system sees it: its name, and how it shares the CPU.
#pragma once

namespace profiled {

// Names the calling thread (at most 15 characters), as top -H, ps -L, perf and gdb show it.
void name_this_thread(const char* name);
// Lowers the calling thread's CPU priority (nice 10): it does background work (a job's row parsing, an upload's
// spooling) that must give way to the io thread and the writer when both want the CPU, so that a running job does
// not slow requests down. Failure (a sandbox that forbids it) leaves the priority as it was.
void make_this_thread_background();

// Lowers the calling thread to the background priority for its own lifetime, then restores the priority it had;
// for the writer while it commits a job's chunk, so that requests arriving meanwhile come first. Only where the
// system lets a thread raise its priority back (root, CAP_SYS_NICE, or an RLIMIT_NICE that allows it, as the unit's
// LimitNICE=+0 does); elsewhere it does nothing, so that no thread is ever left lowered.
class background_while {
public:
    background_while();
    ~background_while();
    background_while(const background_while&) = delete;
    background_while& operator=(const background_while&) = delete;

private:
    int restore_ = 0;
    bool lowered_ = false;
};

} // namespace profiled
