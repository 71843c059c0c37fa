// The bulk row fixtures of tests/fixtures/requests/ against the C++ row validation. Rows are not requests of
// their own, so tests/schema_agreement.py checks these files against the JSON Schemas and this test checks them
// against parse_bulk_user_row / parse_bulk_company_row: both must reach the verdict of the directory.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "common/profiles/requests.hpp"

using namespace profiled;
namespace fs = std::filesystem;

namespace {

// The fixture files of one endpoint and verdict ("valid" or "invalid"), sorted.
std::vector<std::string> fixture_files(const std::string& endpoint, const std::string& verdict)
{
    fs::path dir = fs::path(PROFILED_SOURCE_DIR) / "tests" / "fixtures" / "requests" / endpoint / verdict;
    std::vector<std::string> out;
    for (const auto& entry : fs::directory_iterator(dir)) {
        if (entry.path().extension() == ".json")
            out.push_back(entry.path().string());
    }
    std::sort(out.begin(), out.end());
    return out;
}

// A whole file as text.
std::string read_text(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// The C++ verdict on one row as the job runner reads it: one JSON object, then the row rules.
template <typename Parse>
bool row_accepted(const std::string& text, Parse parse)
{
    auto row = parse_json_object(text);
    return row && parse(*row).has_value();
}

} // namespace

TEST_CASE("bulk user row fixtures get the verdict of their directory", "[requests][fixtures][bulk]")
{
    std::string verdict = GENERATE(as<std::string>(), "valid", "invalid");
    auto files = fixture_files("bulk_user_row", verdict);
    REQUIRE(files.size() >= 4);
    for (const auto& file : files) {
        CAPTURE(file);
        CHECK(row_accepted(read_text(file), parse_bulk_user_row) == (verdict == "valid"));
    }
}

TEST_CASE("bulk company row fixtures get the verdict of their directory", "[requests][fixtures][bulk]")
{
    std::string verdict = GENERATE(as<std::string>(), "valid", "invalid");
    auto files = fixture_files("bulk_company_row", verdict);
    REQUIRE(files.size() >= 4);
    for (const auto& file : files) {
        CAPTURE(file);
        CHECK(row_accepted(read_text(file), parse_bulk_company_row) == (verdict == "valid"));
    }
}
