// Project names by id, as this process has come to know them (from the keys at start-up and every key that
// authenticates since), so that log lines can name a project and not only give its id.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>

namespace profiled {

class project_names {
public:
    // Records the name of a project.
    void remember(std::int64_t project_id, const std::string& name);
    // The project's name, or "unknown" when no key of it has been seen here (a project created after start-up
    // whose jobs another daemon accepted).
    std::string name_of(std::int64_t project_id) const;

private:
    mutable std::mutex mutex_;
    std::map<std::int64_t, std::string> names_;
};

// The process-wide table the daemon's log lines read.
project_names& known_projects();

} // namespace profiled
