// A temporary directory for unit tests (header-only: unit tests link only profiled_common).
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

namespace profiled::test {

// A fresh directory under the system temp dir, removed with everything in it when the object goes away.
class scratch_dir {
public:
    scratch_dir()
    {
        std::string pattern = (std::filesystem::temp_directory_path() / "profiled-unit-XXXXXX").string();
        if (!::mkdtemp(pattern.data()))
            throw std::runtime_error("mkdtemp failed");
        path_ = pattern;
    }
    ~scratch_dir()
    {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    scratch_dir(const scratch_dir&) = delete;
    scratch_dir& operator=(const scratch_dir&) = delete;

    // The directory itself.
    std::string path() const { return path_.string(); }
    // The path of name inside the directory.
    std::string file(const std::string& name) const { return (path_ / name).string(); }

    // Writes text to name inside the directory and returns its path.
    std::string write(const std::string& name, const std::string& text) const
    {
        std::ofstream out(file(name), std::ios::binary);
        out << text;
        return file(name);
    }

private:
    std::filesystem::path path_;
};

} // namespace profiled::test
