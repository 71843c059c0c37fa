// Finding an API key: by its hash only, and the row found checked against the key in constant time.
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "common/api_keys.hpp"
#include "common/sha256.hpp"
#include "tests/support/keys_only_reader.hpp"

using namespace profiled;

namespace {

// A store that records what it is asked for and answers with one preset key row.
class recording_reader final : public test::keys_only_reader {
public:
    std::vector<std::string> asked;
    std::optional<api_key_record> answer;

    std::optional<api_key_record> find_key(const std::string& key_hash) override
    {
        asked.push_back(key_hash);
        return answer;
    }
};

// A stored row for a key with the given hash.
api_key_record row_with_hash(std::string hash)
{
    api_key_record r;
    r.id = 7;
    r.project_id = 3;
    r.prefix = "sk_AbCdEfGh";
    r.key_hash = std::move(hash);
    return r;
}

// The text of a source file of the repository.
std::string source_text(const std::string& relative)
{
    std::ifstream in(std::string(PROFILED_SOURCE_DIR) + "/" + relative);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

} // namespace

TEST_CASE("a key is looked up by its SHA-256 and the key itself never reaches the store", "[keys][lookup]")
{
    recording_reader reader;
    std::string key = generate_api_key(key_kind::secret).key;
    reader.answer = row_with_hash(sha256_hex(key));

    auto found = find_api_key(reader, key);
    REQUIRE(found);
    CHECK(found->id == 7);
    REQUIRE(reader.asked.size() == 1);
    CHECK(reader.asked[0] == sha256_hex(key));
    CHECK(reader.asked[0].find(key.substr(11)) == std::string::npos);
}

TEST_CASE("a row whose stored hash is not the key's own is refused", "[keys][lookup]")
{
    // A store that hands back the wrong row (a bug, a collision in an index) must not let the key in.
    recording_reader reader;
    std::string key = generate_api_key(key_kind::secret).key;
    std::string hash = sha256_hex(key);
    std::string stored = GENERATE_COPY(as<std::string>(), std::string(), hash.substr(0, 63), hash + "0",
                                       "f" + hash.substr(1), hash.substr(0, 63) + (hash[63] == '0' ? "1" : "0"),
                                       sha256_hex(key + "x"));
    CAPTURE(stored);
    reader.answer = row_with_hash(stored);
    CHECK_FALSE(find_api_key(reader, key));
}

TEST_CASE("no row, no key", "[keys][lookup]")
{
    recording_reader reader;
    CHECK_FALSE(find_api_key(reader, "sk_unknown"));
    CHECK(reader.asked == std::vector<std::string>{sha256_hex("sk_unknown")});
}

TEST_CASE("the key check compares hashes with constant_time_equal, and the daemon authenticates through it",
          "[keys][lookup][constant_time_equal]")
{
    // Timing cannot be asserted in a test; what can is that the comparison is the timing-safe one and that the
    // daemon's authentication goes through this function rather than a comparison of its own.
    std::string keys = source_text("common/api_keys.cpp");
    auto body = keys.substr(keys.find("find_api_key(store_reader& reader"));
    CHECK(body.find("constant_time_equal(found->key_hash, hash)") != std::string::npos);
    CHECK(body.find("key_hash ==") == std::string::npos);
    CHECK(body.find("== hash") == std::string::npos);
    std::string auth = source_text("daemon/api/auth.cpp");
    CHECK(auth.find("find_api_key(reader_, key)") != std::string::npos);
    CHECK(auth.find("find_key(") == std::string::npos);
    CHECK(auth.find("key_hash") == std::string::npos);
}
