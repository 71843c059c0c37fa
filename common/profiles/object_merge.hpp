// profiled's merge rule for JSON objects, on their text: given keys overwrite, keys not given stay, and a
// null is stored as null (unlike SQLite's json_patch, which deletes on null). Both engines call it.
#pragma once

#include <string>
#include <string_view>

namespace profiled {

// The text of the object `into` with every member of `patch` set: a key already in `into` keeps its place
// with the patch's value, new keys follow in the patch's order. Both are JSON object texts (as profiled
// stores them); a text that is not a JSON object is treated as {}.
std::string merge_object_text(std::string_view into, std::string_view patch);
// The same into out (its contents replaced), for callers that reuse one string from call to call.
void merge_object_text(std::string_view into, std::string_view patch, std::string& out);

} // namespace profiled
