#include "common/store/open_store.hpp"

#include <filesystem>

#include "common/store/sqlite/sqlite_store.hpp"

namespace profiled {

std::unique_ptr<store> open_store(const std::string& data_dir)
{
    return open_sqlite_store((std::filesystem::path(data_dir) / "profiled.db").string());
}

} // namespace profiled
