// What each of the daemon's threads is, as the system sees it: its name, and how it shares the CPU.
#pragma once

namespace profiled {

// Names the calling thread (at most 15 characters), as top -H, ps -L, perf and gdb show it.
void name_this_thread(const char* name);
// Lowers the calling thread's CPU priority (nice 10): it does background work (a job's row parsing, an upload's
// spooling) that must give way to the io thread and the writer when both want the CPU, so that a running job does
// not slow requests down. Failure (a sandbox that forbids it) leaves the priority as it was.
void make_this_thread_background();

} // namespace profiled
