#include "common/profiles/object_merge.hpp"

#include <unordered_map>
#include <vector>

namespace profiled {

namespace {

// One member of an object text: its key as written (quotes included) and its value's text.
struct member {
    std::string_view key;
    std::string_view value;
};

// Skips JSON white space.
void skip_space(std::string_view s, std::size_t& i)
{
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
        ++i;
}

// Moves i past the string that starts at s[i] (a '"'); false when it does not end.
bool skip_string(std::string_view s, std::size_t& i)
{
    for (++i; i < s.size(); ++i) {
        if (s[i] == '\\')
            ++i;
        else if (s[i] == '"') {
            ++i;
            return true;
        }
    }
    return false;
}

// Moves i past the value that starts at s[i]; false when the text ends inside it.
bool skip_value(std::string_view s, std::size_t& i)
{
    if (i >= s.size())
        return false;
    if (s[i] == '"')
        return skip_string(s, i);
    if (s[i] == '{' || s[i] == '[') {
        int depth = 0;
        while (i < s.size()) {
            char c = s[i];
            if (c == '"') {
                if (!skip_string(s, i))
                    return false;
                continue;
            }
            if (c == '{' || c == '[')
                ++depth;
            else if (c == '}' || c == ']') {
                if (--depth == 0) {
                    ++i;
                    return true;
                }
            }
            ++i;
        }
        return false;
    }
    // A number, true, false or null: up to the next delimiter.
    std::size_t start = i;
    while (i < s.size() && s[i] != ',' && s[i] != '}' && s[i] != ']' && s[i] != ' ' && s[i] != '\t' &&
           s[i] != '\n' && s[i] != '\r')
        ++i;
    return i > start;
}

// The members of an object text, in order, into out (cleared first; left empty when the text is not an object).
void members_of(std::string_view s, std::vector<member>& out)
{
    out.clear();
    std::size_t i = 0;
    skip_space(s, i);
    if (i >= s.size() || s[i] != '{')
        return;
    ++i;
    skip_space(s, i);
    if (i < s.size() && s[i] == '}')
        return;
    while (i < s.size()) {
        skip_space(s, i);
        std::size_t key_start = i;
        if (i >= s.size() || s[i] != '"' || !skip_string(s, i))
            return out.clear();
        std::string_view key = s.substr(key_start, i - key_start);
        skip_space(s, i);
        if (i >= s.size() || s[i] != ':')
            return out.clear();
        ++i;
        skip_space(s, i);
        std::size_t value_start = i;
        if (!skip_value(s, i))
            return out.clear();
        out.push_back({key, s.substr(value_start, i - value_start)});
        skip_space(s, i);
        if (i < s.size() && s[i] == ',') {
            ++i;
            continue;
        }
        if (i < s.size() && s[i] == '}')
            return;
        return out.clear();
    }
    out.clear();
}

// Appends one member.
void append_member(std::string& out, const member& m)
{
    if (out.size() > 1)
        out += ',';
    out += m.key;
    out += ':';
    out += m.value;
}

} // namespace

void merge_object_text(std::string_view into, std::string_view patch, std::string& out)
{
    // Reused from call to call: the function runs once per upserted row that already exists.
    thread_local std::vector<member> patch_members, old_members;
    thread_local std::vector<bool> used;
    members_of(patch, patch_members);
    members_of(into, old_members);
    if (patch_members.empty()) {
        out.assign(old_members.empty() ? std::string_view("{}") : into);
        return;
    }
    // The last of a key given twice in the patch wins, as when the patch was parsed.
    used.assign(patch_members.size(), false);
    // Small patches are searched in place; large ones through an index, so a patch of many keys into a profile
    // of many keys stays linear.
    std::unordered_map<std::string_view, int> index;
    if (patch_members.size() > 8) {
        for (std::size_t j = 0; j < patch_members.size(); ++j)
            index[patch_members[j].key] = static_cast<int>(j);
    }
    auto last_in_patch = [&](std::string_view key) -> int {
        if (!index.empty()) {
            auto it = index.find(key);
            return it == index.end() ? -1 : it->second;
        }
        for (std::size_t j = patch_members.size(); j-- > 0;) {
            if (patch_members[j].key == key)
                return static_cast<int>(j);
        }
        return -1;
    };
    out.clear();
    out.reserve(into.size() + patch.size());
    out += '{';
    for (const auto& m : old_members) {
        int j = last_in_patch(m.key);
        if (j < 0) {
            append_member(out, m);
        } else {
            if (!used[j])
                append_member(out, {m.key, patch_members[j].value});
            used[j] = true;
        }
    }
    for (std::size_t j = 0; j < patch_members.size(); ++j) {
        if (used[j])
            continue;
        int last = last_in_patch(patch_members[j].key);
        if (!used[last]) {
            append_member(out, patch_members[last]);
            used[last] = true;
        }
    }
    out += '}';
}

std::string merge_object_text(std::string_view into, std::string_view patch)
{
    std::string out;
    merge_object_text(into, patch, out);
    return out;
}

} // namespace profiled
