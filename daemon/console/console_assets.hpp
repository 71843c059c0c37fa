// The web console's files, embedded in the binary at build time (daemon/console/embed_console.cmake).
#pragma once

#include <string_view>
#include <vector>

namespace profiled {

struct console_asset {
    std::string_view name;         // file name under daemon/console/assets/, e.g. app.js
    std::string_view content_type; // for the Content-Type header
    std::string_view body;
};

// Every console file, index.html among them.
const std::vector<console_asset>& console_assets();
// A digest of every console file: the versioned folder the assets are served under, so they can be cached for good.
std::string_view console_version();

} // namespace profiled
