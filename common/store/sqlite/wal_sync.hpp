// The WAL file of a database in WAL mode, synced on demand: what makes commits made with synchronous=NORMAL
// durable, from a thread other than the one committing.
#pragma once

#include <string>

namespace profiled {

class wal_sync {
public:
    // Opens the WAL file beside the database at db_path, which must exist (a write transaction made it).
    explicit wal_sync(const std::string& db_path);
    ~wal_sync();
    wal_sync(const wal_sync&) = delete;
    wal_sync& operator=(const wal_sync&) = delete;

    // Makes durable everything written to the WAL before the call began (one fdatasync: the file's pages,
    // whichever descriptor wrote them). Throws store_error (unwritable) when the disk refuses.
    void sync();

private:
    std::string path_;
    int fd_ = -1;
};

} // namespace profiled
