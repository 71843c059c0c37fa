#include "common/store/store_error.hpp"

namespace profiled {

std::string_view failure_name(store_failure kind) noexcept
{
    switch (kind) {
    case store_failure::storage_full: return "storage_full";
    case store_failure::busy: return "busy";
    case store_failure::unwritable: return "unwritable";
    case store_failure::unavailable: return "unavailable";
    case store_failure::other: break;
    }
    return "other";
}

} // namespace profiled
