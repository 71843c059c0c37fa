// What this binary is: its version, the git revision it was built from and when it was built.
#pragma once

#include <string_view>

namespace profiled {

// The version from CMake's project(), e.g. "0.1.0".
std::string_view build_version();
// The git revision of the source tree (`git describe --always --dirty`), or "unknown" outside a git checkout.
std::string_view build_revision();
// The build date, YYYY-MM-DD in UTC (SOURCE_DATE_EPOCH's date when set, for reproducible builds).
std::string_view build_date();

} // namespace profiled
