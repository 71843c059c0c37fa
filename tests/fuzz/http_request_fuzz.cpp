// libFuzzer target for the HTTP request path: a head through Beast's parser as the daemon reads it, a chunked body through daemon/http/chunked_decoder.*; the checks live in http_request_entry.hpp.
#include <cstdio>
#include <cstdlib>

#include "tests/fuzz/entry_points.hpp"

// Feeds one input to the entry point and aborts on a finding so libFuzzer saves the input.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    auto finding = profiled::fuzz::http_request_entry({reinterpret_cast<const char*>(data), size});
    if (finding) {
        std::fprintf(stderr, "finding: %s\n", finding->c_str());
        std::abort();
    }
    return 0;
}
