// libFuzzer target for the People API operation engine (common/profiles/people_operations.*); the checks live in entry_points.hpp.
#include <cstdio>
#include <cstdlib>

#include "tests/fuzz/entry_points.hpp"

// Feeds one input to the entry point and aborts on a finding so libFuzzer saves the input.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    auto finding = profiled::fuzz::people_operations_entry({reinterpret_cast<const char*>(data), size});
    if (finding) {
        std::fprintf(stderr, "finding: %s\n", finding->c_str());
        std::abort();
    }
    return 0;
}
