#include "common/profiles/profile.hpp"

#include <boost/json/serialize.hpp>

namespace profiled {

const char* key_kind_name(key_kind kind) { return kind == key_kind::public_key ? "public" : "secret"; }

user_upsert to_upsert(const user_change& change)
{
    return {change.user_id,
            change.email,
            change.phone,
            change.company_id,
            boost::json::serialize(change.properties),
            boost::json::serialize(change.origin)};
}

company_upsert to_upsert(const company_change& change)
{
    return {change.company_id, boost::json::serialize(change.properties)};
}

} // namespace profiled
