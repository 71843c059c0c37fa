// A counter in a small file beside the database, mapped into memory by every process that opens the database:
// whoever changes a key bumps it after the commit, so the daemon sees a key change by reading memory, with no
// read transaction (and no file locks) on each request.
#pragma once

#include <cstdint>
#include <string>

namespace profiled {

class key_change_signal {
public:
    // Maps db_path + "-keys", created (8 bytes, zero) when missing; read-only when this process may not write it,
    // and a counter that never moves when it cannot be opened at all (readers then fall back on their periodic
    // full check).
    explicit key_change_signal(const std::string& db_path);
    ~key_change_signal();
    key_change_signal(const key_change_signal&) = delete;
    key_change_signal& operator=(const key_change_signal&) = delete;

    // The counter's current value, as any process last bumped it.
    std::uint64_t value() const noexcept;
    // Adds one to the counter, seen at once by every process mapping the file; nothing when it is not writable.
    void bump() noexcept;

private:
    std::uint64_t* counter_ = nullptr;
    bool writable_ = false;
};

} // namespace profiled
