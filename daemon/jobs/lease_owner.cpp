#include "daemon/jobs/lease_owner.hpp"

#include <filesystem>
#include <fstream>

#include "common/profiles/ids.hpp"

namespace profiled {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view prefix = "daemon-";
constexpr std::size_t random_length = 16;

// Whether name is one lease_owner_of made.
bool is_owner_name(const std::string& name)
{
    return name.size() == prefix.size() + random_length && name.starts_with(prefix);
}

} // namespace

std::string lease_owner_of(const std::string& data_dir)
{
    fs::path file = fs::path(data_dir) / "lease-owner";
    std::string name;
    if (std::ifstream in(file); in && std::getline(in, name) && is_owner_name(name))
        return name;
    name = std::string(prefix) + random_base62(random_length);
    // Written aside and renamed, so a crash leaves the old file or the whole new one.
    fs::path part = file;
    part += ".part";
    {
        std::ofstream out(part, std::ios::trunc);
        out << name << "\n";
        if (!out.flush())
            return name;
    }
    std::error_code ec;
    fs::rename(part, file, ec);
    return name;
}

} // namespace profiled
