// Replays every input the fuzzers ever found (tests/fuzz/regressions/TARGET-NAME) and every seed
// (tests/fuzz/corpus/TARGET/) through the fuzz targets' own entry points.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "tests/fuzz/entry_points.hpp"

namespace fs = std::filesystem;

namespace {

// The whole content of a file.
std::string read_file(const fs::path& path)
{
    std::ifstream in(path, std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

// The regular files in dir, sorted so failures are reported in a stable order.
std::vector<fs::path> files_in(const fs::path& dir)
{
    std::vector<fs::path> out;
    for (const auto& entry : fs::directory_iterator(dir))
        if (entry.is_regular_file())
            out.push_back(entry.path());
    std::sort(out.begin(), out.end());
    return out;
}

const fs::path fuzz_dir = fs::path(PROFILED_SOURCE_DIR) / "tests" / "fuzz";

} // namespace

TEST_CASE("every input a fuzzer found passes its entry point's checks", "[fuzz][regression]")
{
    auto files = files_in(fuzz_dir / "regressions");
    REQUIRE(files.size() >= 4);
    for (const auto& path : files) {
        std::string name = path.filename().string();
        std::string target = name.substr(0, name.find('-'));
        CAPTURE(name);
        auto finding = profiled::fuzz::run_entry_point(target, read_file(path));
        CHECK(finding.value_or("") == "");
    }
}

TEST_CASE("every fuzz seed passes its entry point's checks", "[fuzz][regression]")
{
    for (const auto& target : profiled::fuzz::entry_point_names()) {
        auto files = files_in(fuzz_dir / "corpus" / target);
        CAPTURE(target);
        CHECK(files.size() >= 4);
        for (const auto& path : files) {
            CAPTURE(path.filename().string());
            auto finding = profiled::fuzz::run_entry_point(target, read_file(path));
            CHECK(finding.value_or("") == "");
        }
    }
}

TEST_CASE("the entry points' checks can fail", "[fuzz][regression]")
{
    // Guards the replay above against entry points that accept anything.
    CHECK(profiled::fuzz::run_entry_point("no_such_target", "x").has_value());
    CHECK(profiled::fuzz::check_id(std::string(256, 'u'), "id").has_value());
    CHECK(profiled::fuzz::check_id("", "id").has_value());
    CHECK(profiled::fuzz::check_api_error(profiled::internal_error(), "x").has_value());
}
