#include "common/store/postgres/spool_connection.hpp"

namespace profiled {

spool_connection::spool_connection(std::string url, bool deferred_commits)
    : url_(std::move(url)), deferred_commits_(deferred_commits)
{
}

pg_connection& spool_connection::open()
{
    if (!db_)
        db_ = std::make_unique<pg_connection>(url_);
    else
        db_->reconnect_if_lost();
    if (deferred_commits_ && !configured_) {
        // A piece need not be durable at its own commit: the commit that records its job makes it durable, as it
        // flushes the server's log up to itself, and every piece was logged before. Spares a disk sync per megabyte
        // of upload. (Asked again after a failure: a reconnection forgets it.)
        db_->query("SELECT set_config('synchronous_commit', 'off', false)");
        configured_ = true;
    }
    return *db_;
}

} // namespace profiled
