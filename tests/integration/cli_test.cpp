// The command line: version, help, keys create/list/revoke (also while the daemon runs), serve's refusals.
#include <string>
#include <tuple>
#include <vector>

#include <catch2/catch.hpp>

#include "tests/support/api_checks.hpp"
#include "tests/support/engine_database.hpp"
#include "tests/support/test_daemon.hpp"

using namespace profiled::test;

namespace {

// The lines of text, without their line ends.
std::vector<std::string> lines_of(const std::string& text)
{
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start < text.size()) {
        auto end = text.find('\n', start);
        if (end == std::string::npos)
            end = text.size();
        out.push_back(text.substr(start, end - start));
        start = end + 1;
    }
    return out;
}

// The `keys list` line that shows this key's prefix, or "".
std::string list_line_for(const std::string& list_output, const std::string& key)
{
    for (const auto& line : lines_of(list_output)) {
        if (line.rfind(key.substr(0, 11), 0) == 0)
            return line;
    }
    return "";
}

} // namespace

TEST_CASE("profiled version and the help texts", "[cli][integration]")
{
    std::vector<std::string> args;
    std::string expected;
    std::tie(args, expected) = GENERATE(table<std::vector<std::string>, std::string>({
        {{"version"}, "profiled 0."},
        {{"--version"}, "profiled 0."},
        {{"--help"}, "Usage: profiled COMMAND"},
        {{"help"}, "Usage: profiled COMMAND"},
        {{"serve", "--help"}, "--data-dir"},
        {{"serve", "-h"}, "--max-body-bytes"},
        {{"keys", "--help"}, "keys create"},
        {{"keys", "create", "--help"}, "--kind"},
        {{"keys", "list", "--help"}, "--data-dir"},
        {{"keys", "revoke", "--help"}, "prefix"},
    }));
    CAPTURE(args);
    auto r = run_profiled(args);
    CAPTURE(r.out, r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.out.find(expected) != std::string::npos);
    CHECK(r.err.empty());
}

TEST_CASE("profiled version prints the version, the git revision and the build date", "[cli][integration]")
{
    auto r = run_profiled({"version"});
    REQUIRE(r.exit_code == 0);
    auto lines = lines_of(r.out);
    REQUIRE(lines.size() == 3);
    CHECK(lines[0] == std::string("profiled ") + PROFILED_VERSION);
    CHECK(lines[1].rfind("revision ", 0) == 0);
    CHECK(lines[1].size() > 9);
    // YYYY-MM-DD
    REQUIRE(lines[2].size() == 16);
    CHECK(lines[2].rfind("built 20", 0) == 0);
    CHECK(lines[2][10] == '-');
    CHECK(lines[2][13] == '-');
    CHECK(run_profiled({"--version"}).out == r.out);
}

TEST_CASE("every help text speaks with one voice: usage first, flags spelt alike, PROFILED_ variables named",
          "[cli][integration]")
{
    std::vector<std::string> args;
    std::string variable;
    std::tie(args, variable) = GENERATE(table<std::vector<std::string>, std::string>({
        {{"--help"}, "PROFILED_DATA_DIR"},
        {{"serve", "--help"}, "PROFILED_DATA_DIR"},
        {{"keys", "--help"}, "PROFILED_DATABASE"},
        {{"keys", "create", "--help"}, "PROFILED_DATA_DIR"},
        {{"keys", "list", "--help"}, "PROFILED_DATABASE"},
        {{"keys", "revoke", "--help"}, "PROFILED_DATA_DIR"},
        {{"jobs", "--help"}, "PROFILED_DATA_DIR"},
        {{"jobs", "list", "--help"}, "PROFILED_DATABASE"},
        {{"jobs", "watch", "--help"}, "PROFILED_API_KEY"},
        {{"import", "--help"}, "PROFILED_URL"},
    }));
    CAPTURE(args);
    auto r = run_profiled(args);
    CAPTURE(r.out);
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("Usage: profiled") != std::string::npos);
    CHECK(r.out.find(variable) != std::string::npos);
    // No caption colon after a usage line, no bare "arg" where a value name belongs.
    CHECK(r.out.find("]:") == std::string::npos);
    CHECK(r.out.find(" arg ") == std::string::npos);
    CHECK(r.out.find(" arg\n") == std::string::npos);
}

TEST_CASE("keys --help and keys revoke --help spell revoke's argument the same way", "[cli][integration]")
{
    auto top = run_profiled({"keys", "--help"});
    auto revoke = run_profiled({"keys", "revoke", "--help"});
    CHECK(top.out.find("revoke KEY_PREFIX") != std::string::npos);
    CHECK(revoke.out.find("Usage: profiled keys revoke KEY_PREFIX") != std::string::npos);
    CHECK(revoke.out.find("--prefix") == std::string::npos);
    auto create = run_profiled({"keys", "create", "--help"});
    CHECK(top.out.find("--project NAME") != std::string::npos);
    CHECK(create.out.find("--project NAME") != std::string::npos);
    CHECK(create.out.find("--kind KIND") != std::string::npos);
}

TEST_CASE("usage errors exit 2 and say what is wrong on stderr", "[cli][integration]")
{
    std::vector<std::string> args;
    std::string expected;
    // DATA_DIR stands for this run's temporary data directory.
    std::tie(args, expected) = GENERATE(table<std::vector<std::string>, std::string>({
        {std::vector<std::string>{}, "Usage"},
        {{"frobnicate"}, "unknown command 'frobnicate'"},
        {{"serve", "--no-such-flag"}, "no-such-flag"},
        {{"serve", "--log-format", "xml", "--data-dir", "DATA_DIR"}, "log-format"},
        {{"serve", "--max-body-bytes=-1", "--data-dir", "DATA_DIR"}, "max-body-bytes"},
        {{"keys"}, "Usage"},
        {{"keys", "rotate"}, "Usage"},
        {{"keys", "create", "--data-dir", "DATA_DIR", "--kind", "admin"}, "--kind"},
        {{"keys", "create", "--data-dir", "DATA_DIR", "--project", ""}, "--project"},
        {{"keys", "revoke", "--data-dir", "DATA_DIR", "sk"}, "KEY_PREFIX"},
    }));
    temp_dir dir;
    for (auto& a : args)
        if (a == "DATA_DIR")
            a = dir.path();
    CAPTURE(args);
    auto r = run_profiled(args);
    CAPTURE(r.out, r.err);
    CHECK(r.exit_code == 2);
    CHECK(r.out.empty());
    CHECK(r.err.find(expected) != std::string::npos);
}

TEST_CASE("keys create prints only the new key, and keys list never prints a key", "[cli][keys][integration]")
{
    temp_dir dir;
    auto created = run_profiled({"keys", "create", "--data-dir", dir.path(), "--project", "acme", "--kind", "secret"});
    REQUIRE(created.exit_code == 0);
    auto out_lines = lines_of(created.out);
    REQUIRE(out_lines.size() == 1);
    std::string secret = out_lines[0];
    CHECK(secret.size() == 43);
    CHECK(secret.rfind("sk_", 0) == 0);
    std::string pub = create_key(dir.path(), "acme", "public");
    CHECK(pub.rfind("pk_", 0) == 0);
    std::string other = create_key(dir.path(), "other", "secret");

    auto list = run_profiled({"keys", "list", "--data-dir", dir.path()});
    REQUIRE(list.exit_code == 0);
    CAPTURE(list.out);
    for (const auto& key : {secret, pub, other}) {
        CHECK(list.out.find(key) == std::string::npos);
        // Not even the part of the key after the shown prefix.
        CHECK(list.out.find(key.substr(11)) == std::string::npos);
    }
    std::string line = list_line_for(list.out, secret);
    CHECK(line.find("acme") != std::string::npos);
    CHECK(line.find("secret") != std::string::npos);
    CHECK(line.find("active") != std::string::npos);
    CHECK(list_line_for(list.out, pub).find("public") != std::string::npos);
    CHECK(list_line_for(list.out, other).find("other") != std::string::npos);

    SECTION("revoking by the listed prefix marks only that key revoked")
    {
        auto revoked = run_profiled({"keys", "revoke", "--data-dir", dir.path(), secret.substr(0, 11)});
        CAPTURE(revoked.err);
        CHECK(revoked.exit_code == 0);
        CHECK(revoked.out.find("revoked 1 key") != std::string::npos);
        auto after = run_profiled({"keys", "list", "--data-dir", dir.path()});
        CHECK(list_line_for(after.out, secret).find("revoked") != std::string::npos);
        CHECK(list_line_for(after.out, pub).find("active") != std::string::npos);
        CHECK(list_line_for(after.out, other).find("active") != std::string::npos);
        CHECK(after.out.find(secret) == std::string::npos);
    }
    SECTION("revoking a prefix that names no live key fails")
    {
        auto r = run_profiled({"keys", "revoke", "--data-dir", dir.path(), "sk_NoSuchKey"});
        CHECK(r.exit_code == 1);
        CHECK(r.err.find("sk_NoSuchKey") != std::string::npos);
    }
    SECTION("PROFILED_DATA_DIR stands in for --data-dir")
    {
        auto r = run_profiled({"keys", "list"}, {"PROFILED_DATA_DIR=" + dir.path()});
        CHECK(r.exit_code == 0);
        CHECK_FALSE(list_line_for(r.out, secret).empty());
    }
}

TEST_CASE("keys created and revoked while the daemon runs take effect at once", "[cli][keys][integration]")
{
    test_daemon d;
    REQUIRE(d.identify(R"({"user_id":"u"})").status == 202);

    SECTION("a new key of a new project works on its next request")
    {
        std::string fresh = create_key(d.data_dir(), "newco", "secret");
        auto r = http_call(d.port(), "POST", "/v1/identify", R"({"user_id":"n"})", identify_headers(fresh));
        CHECK(r.status == 202);
        CHECK(http_call(d.port(), "GET", "/v1/users/n", "", {{"Authorization", "Bearer " + fresh}}).status == 200);
        // It belongs to newco: the default project's user is not its business.
        check_error(http_call(d.port(), "GET", "/v1/users/u", "", {{"Authorization", "Bearer " + fresh}}), 404,
                    "not_found");
    }
    SECTION("a revoked key is refused on its next request, on an open connection too")
    {
        http_connection c(d.port());
        auto auth = identify_headers(d.secret_key());
        REQUIRE(c.request("GET", "/v1/users/u", "", auth).status == 200);
        auto revoked = run_profiled({"keys", "revoke", "--data-dir", d.data_dir(), d.secret_key().substr(0, 11)});
        REQUIRE(revoked.exit_code == 0);
        await_key_change([&] { return c.request("GET", "/v1/users/u", "", auth).status; }, 401);
        auto r = c.request("GET", "/v1/users/u", "", auth);
        check_error(r, 401, "unauthorized");
        CHECK(r.error_message().find("revoked") != std::string::npos);
        check_error(d.identify(R"({"user_id":"v"})"), 401, "unauthorized");
        // Other keys of the project still work.
        std::string second = create_key(d.data_dir(), "default", "secret");
        CHECK(http_call(d.port(), "GET", "/v1/users/u", "", {{"Authorization", "Token " + second}}).status == 200);
    }
    SECTION("revoking by the whole key works too")
    {
        auto revoked = run_profiled({"keys", "revoke", "--data-dir", d.data_dir(), d.secret_key()});
        REQUIRE(revoked.exit_code == 0);
        await_key_change([&] { return d.call("GET", "/v1/users/u").status; }, 401);
        check_error(d.call("GET", "/v1/users/u"), 401, "unauthorized");
    }
}

TEST_CASE("serve refuses a database made by a newer profiled", "[cli][store][integration]")
{
    temp_dir dir;
    create_key(dir.path(), "default", "secret"); // creates and migrates the database
    run_sql_on(dir.path(), "INSERT INTO schema_migrations(version, name, applied_at) VALUES (9999, 'future', 0)");
    auto r = run_profiled({"serve", "--listen", "127.0.0.1:0", "--data-dir", dir.path()});
    CAPTURE(r.err);
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("schema version 9999") != std::string::npos);
    CHECK(r.err.find("upgrade profiled") != std::string::npos);
}
