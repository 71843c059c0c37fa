// libFuzzer target for the NDJSON line splitter (common/formats/ndjson_reader.*); the checks live in entry_points.hpp.
#include <cstdio>
#include <cstdlib>

#include "tests/fuzz/entry_points.hpp"

// Feeds one input to the entry point and aborts on a finding so libFuzzer saves the input.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    auto finding = profiled::fuzz::ndjson_entry({reinterpret_cast<const char*>(data), size});
    if (finding) {
        std::fprintf(stderr, "finding: %s\n", finding->c_str());
        std::abort();
    }
    return 0;
}
