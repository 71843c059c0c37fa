#include "common/ops/project_names.hpp"

namespace profiled {

void project_names::remember(std::int64_t project_id, const std::string& name)
{
    std::lock_guard lock(mutex_);
    auto it = names_.find(project_id);
    if (it == names_.end())
        names_.emplace(project_id, name);
    else if (it->second != name)
        it->second = name;
}

std::string project_names::name_of(std::int64_t project_id) const
{
    std::lock_guard lock(mutex_);
    auto it = names_.find(project_id);
    return it == names_.end() ? "unknown" : it->second;
}

project_names& known_projects()
{
    static project_names* names = new project_names;
    return *names;
}

} // namespace profiled
