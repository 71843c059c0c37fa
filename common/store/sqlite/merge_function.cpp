#include "common/store/sqlite/merge_function.hpp"

#include <string>
#include <string_view>

#include <sqlite3.h>

#include "common/profiles/object_merge.hpp"
#include "common/store/sqlite/sqlite.hpp"

namespace profiled {

namespace {

// The text of an argument; "{}" for NULL.
std::string_view text_arg(sqlite3_value* v)
{
    const unsigned char* text = sqlite3_value_text(v);
    if (!text)
        return "{}";
    return {reinterpret_cast<const char*>(text), static_cast<std::size_t>(sqlite3_value_bytes(v))};
}

// profiled_merge(stored, patch).
void merge(sqlite3_context* context, int, sqlite3_value** args)
{
    try {
        // One string per thread, its buffer reused: SQLite copies the result (SQLITE_TRANSIENT) before the next call.
        thread_local std::string merged;
        merge_object_text(text_arg(args[0]), text_arg(args[1]), merged);
        sqlite3_result_text64(context, merged.data(), merged.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
        if (merged.capacity() > 64 * 1024)
            std::string().swap(merged); // one large profile does not keep its buffer for the thread's life
    } catch (const std::bad_alloc&) {
        sqlite3_result_error_nomem(context);
    }
}

} // namespace

void register_merge_function(sqlite3* db)
{
    int rc = sqlite3_create_function_v2(db, "profiled_merge", 2, SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS,
                                        nullptr, merge, nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK)
        throw sqlite_error(rc, "registering profiled_merge");
}

} // namespace profiled
