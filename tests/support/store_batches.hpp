// Unit-test shorthands for handing a store writer batches of operations.
#pragma once

#include <vector>

#include "common/api_error.hpp"
#include "common/store/store.hpp"

namespace profiled::test {

// Applies one operation in a batch of its own; throws api_exception when it was refused.
inline operation_outcome apply_one(store_writer& w, store_operation op)
{
    std::vector<store_operation> batch;
    batch.push_back(std::move(op));
    auto outcomes = w.apply(batch);
    if (outcomes.front().refused)
        throw api_exception(*outcomes.front().refused);
    return std::move(outcomes.front());
}

} // namespace profiled::test
