// Several daemons on one PostgreSQL database: a key revoked anywhere is refused by every daemon within a second,
// whether the revocation is announced (profiled keys revoke) or only written to the database.
#include <chrono>
#include <string>
#include <thread>

#include <catch2/catch.hpp>

#include "tests/support/api_checks.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/postgres_query.hpp"
#include "tests/support/postgres_server.hpp"
#include "tests/support/test_daemon.hpp"

using namespace profiled::test;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

namespace {

// How long after `since` the daemon first refuses the key (401), polling every 10 ms for up to 3 s.
std::chrono::milliseconds refused_after(const test_daemon& d, const header_list& auth, steady::time_point since)
{
    http_connection c(d.port());
    while (steady::now() - since < 3s) {
        auto r = c.request("GET", "/v1/users/u", "", auth);
        if (r.status == 401)
            return std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - since);
        std::this_thread::sleep_for(10ms);
    }
    return 3s;
}

} // namespace

TEST_CASE("a key revoked through one daemon's database is refused by another daemon within a second",
          "[integration][postgres][keys]")
{
    std::string url = fresh_postgres_url();
    daemon_options options;
    options.database = url;
    test_daemon first({}, options);
    test_daemon second({}, options);
    std::string key = first.secret_key();
    header_list auth{{"Authorization", "Token " + key}};
    header_list own{{"Authorization", "Token " + second.secret_key()}};
    REQUIRE(first.identify(R"({"user_id":"u"})").status == 202);
    // Known to both daemons, many times over: whatever they remember, they remember.
    for (int i = 0; i < 20; ++i) {
        REQUIRE(http_call(first.port(), "GET", "/v1/users/u", "", auth).status == 200);
        REQUIRE(http_call(second.port(), "GET", "/v1/users/u", "", auth).status == 200);
    }

    SECTION("revoked with profiled keys revoke: announced to every daemon")
    {
        auto revoke = run_profiled({"keys", "revoke", "--data-dir", first.data_dir(), "--database", url,
                                    key.substr(0, 11)});
        REQUIRE(revoke.exit_code == 0);
        auto revoked_at = steady::now();
        auto waited = refused_after(second, auth, revoked_at);
        CAPTURE(waited.count());
        CHECK(waited < 1s);
        check_error(http_call(first.port(), "GET", "/v1/users/u", "", auth), 401, "unauthorized");
    }
    SECTION("revoked by a statement of its own, which nobody announces: seen by looking")
    {
        query_rows(url, "UPDATE api_keys SET revoked_at = 1 WHERE prefix = '" + key.substr(0, 11) + "' RETURNING id");
        auto revoked_at = steady::now();
        auto waited = refused_after(second, auth, revoked_at);
        CAPTURE(waited.count());
        CHECK(waited < 1s);
        CHECK(refused_after(first, auth, revoked_at) < 1s);
    }
    // The other keys were not touched.
    CHECK(http_call(second.port(), "GET", "/v1/users/u", "", own).status == 200);
}
