// profiled's merge rule as an SQL function of the SQLite engine: profiled_merge(stored, patch).
#pragma once

struct sqlite3;

namespace profiled {

// Registers profiled_merge(stored_json, patch_json) on the connection: merge_object_text, so an upsert merges
// inside the database (json_patch is not the rule: it deletes keys whose new value is null).
void register_merge_function(sqlite3* db);

} // namespace profiled
