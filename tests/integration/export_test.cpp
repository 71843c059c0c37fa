// GET /v1/users/export, /v1/companies/export and `profiled export` against the real daemon (on both engines: the
// suite runs again with --engine postgres).
#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <catch2/catch.hpp>

#include "tests/support/api_checks.hpp"
#include "tests/support/bulk_jobs.hpp"
#include "tests/support/streamed_reply.hpp"
#include "tests/support/test_daemon.hpp"

using namespace profiled::test;
namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

// A daemon that applies bulk rows as fast as it can, so the tests load their users in a moment.
std::vector<std::string> fast_bulk_args(std::vector<std::string> more = {})
{
    std::vector<std::string> args{"--rows-per-minute", "0", "--max-job-rows", "20000"};
    args.insert(args.end(), more.begin(), more.end());
    return args;
}

// Uploads the NDJSON rows as one bulk job of type and waits for it to end done.
void load(const test_daemon& d, const std::string& type, const std::string& rows)
{
    auto r = upload_ndjson(d, type, rows);
    INFO(r.body);
    REQUIRE(r.status == 202);
    auto job = wait_for_job_end(d, string_field(r.json().as_object(), "job_id"), 120000);
    REQUIRE(string_field(job, "status") == "done");
}

// n users u{first}.. whose metadata carries pad bytes of padding, so that an export of them is large.
std::string padded_users(int n, int first, std::size_t pad)
{
    std::string padding(pad, 'x');
    std::string out;
    for (int i = first; i < first + n; ++i)
        out += R"({"user_id":"u)" + std::to_string(i) + R"(","metadata":{"n":)" + std::to_string(i) + R"(,"pad":")" +
               padding + "\"}}\n";
    return out;
}

// The secret key's Authorization header, or another key's.
header_list auth(const std::string& key) { return {{"Authorization", "Token " + key}}; }

// Each line of an export as a JSON object.
std::vector<json::object> parsed(const std::vector<std::string>& lines)
{
    std::vector<json::object> out;
    for (const auto& line : lines)
        out.push_back(json::parse(line).as_object());
    return out;
}

// Every item of a listing (path, the array named list), page by page.
std::vector<json::object> listed(const test_daemon& d, const std::string& path, const std::string& list,
                                 const std::string& query = "")
{
    std::vector<json::object> out;
    std::string cursor;
    for (;;) {
        auto r = d.call("GET", path + "?limit=1000" + query + (cursor.empty() ? "" : "&cursor=" + cursor));
        REQUIRE(r.status == 200);
        auto body = r.json().as_object();
        for (const auto& item : body.at(list).as_array())
            out.push_back(item.as_object());
        if (body.at("next_cursor").is_null())
            return out;
        cursor = std::string(body.at("next_cursor").as_string());
    }
}

// A whole export with the secret key: its rows, checked to end with the row-count trailer.
std::vector<json::object> exported(const test_daemon& d, const std::string& target)
{
    streamed_reply reply(d.port(), target, auth(d.secret_key()));
    INFO(target << " " << reply.status() << " " << reply.body());
    REQUIRE(reply.status() == 200);
    CHECK(reply.headers().at("content-type") == "application/x-ndjson");
    REQUIRE(reply.read_to_end());
    auto lines = reply.lines();
    CHECK(reply.trailers().at("x-profiled-export-rows") == std::to_string(lines.size()));
    return parsed(lines);
}

// An export the test holds open with a tiny receive buffer after its first bytes, so the daemon must wait for it.
std::unique_ptr<streamed_reply> held_export(const test_daemon& d)
{
    auto reply = std::make_unique<streamed_reply>(d.port(), "/v1/users/export", auth(d.secret_key()), 4096);
    REQUIRE(reply->status() == 200);
    REQUIRE(reply->read_at_least(1));
    return reply;
}

} // namespace

TEST_CASE("an export gives the project's users and companies as listing shows them", "[export][integration]")
{
    test_daemon d(fast_bulk_args());
    load(d, "users", user_rows(300));
    load(d, "companies", [] {
        std::string rows;
        for (int i = 0; i < 120; ++i)
            rows += R"({"company_id":"c)" + std::to_string(i) + R"(","metadata":{"size":)" + std::to_string(i) + "}}\n";
        return rows;
    }());
    // A user with an alias and a company, as a single GET shows them.
    REQUIRE(d.identify(R"({"user_id":"u7","metadata":{"plan":"pro"},"company":{"id":"c3"}})").status == 202);
    REQUIRE(people_post(d, "/public/alias",
                        R"({"apiKey":")" + d.secret_key() + R"(","alias_id":"u8","original_id":"anon_8"})")
                .status == 200);

    SECTION("users: the same ids in the same order, the same bodies")
    {
        auto rows = exported(d, "/v1/users/export");
        CHECK(rows.size() == 300);
        CHECK(rows == listed(d, "/v1/users", "users"));
        auto u8 = std::find_if(rows.begin(), rows.end(),
                               [](const json::object& u) { return string_field(u, "user_id") == "u8"; });
        REQUIRE(u8 != rows.end());
        CHECK(*u8 == get_user(d, "u8"));
        CHECK(u8->at("aliases").as_array().size() == 1);
    }
    SECTION("companies")
    {
        auto rows = exported(d, "/v1/companies/export");
        CHECK(rows.size() == 120);
        CHECK(rows == listed(d, "/v1/companies", "companies"));
    }
    SECTION("updated_since keeps the profiles updated at or after it, as listing does")
    {
        std::string since = string_field(get_user(d, "u7"), "updated_at");
        auto rows = exported(d, "/v1/users/export?updated_since=" + since);
        CHECK(rows == listed(d, "/v1/users", "users", "&updated_since=" + since));
        CHECK_FALSE(rows.empty());
        CHECK(rows.size() < 300);
        CHECK(exported(d, "/v1/users/export?updated_since=2999-01-01T00:00:00Z").empty());
        auto bad = d.call("GET", "/v1/users/export?updated_since=yesterday");
        CHECK(bad.status == 400);
        CHECK(bad.error_code() == "invalid_field");
    }
    SECTION("another project's key exports none of them; a public key and no key are refused")
    {
        std::string other = create_key(d.data_dir(), "other", "secret", d.database());
        streamed_reply theirs(d.port(), "/v1/users/export", auth(other));
        REQUIRE(theirs.status() == 200);
        REQUIRE(theirs.read_to_end());
        CHECK(theirs.body().empty());
        CHECK(theirs.trailers().at("x-profiled-export-rows") == "0");
        auto as_public = http_call(d.port(), "GET", "/v1/users/export", "", auth(d.public_key()));
        CHECK(as_public.status == 403);
        CHECK_FALSE(as_public.error_code().empty());
        CHECK(http_call(d.port(), "GET", "/v1/companies/export").status == 401);
    }
}

TEST_CASE("an export shows the project as it was when it began, whatever is written meanwhile", "[export][integration]")
{
    test_daemon d(fast_bulk_args());
    // About 3 MB: more than the daemon's pages in memory and the sockets' buffers hold, so most of it is read
    // from the snapshot after the writes below.
    load(d, "users", padded_users(10000, 0, 250));
    auto reply = held_export(d);

    REQUIRE(d.identify(R"({"user_id":"late_user","metadata":{"n":-1}})").status == 202);
    REQUIRE(d.identify(R"({"user_id":"u9999","metadata":{"n":"changed"}})").status == 202);
    REQUIRE(d.call("DELETE", "/v1/users/u5000").status == 204);
    REQUIRE(d.call("DELETE", "/v1/users/u0").status == 204);
    CHECK(string_field(get_user(d, "late_user"), "user_id") == "late_user");

    REQUIRE(reply->read_to_end(60000));
    auto rows = parsed(reply->lines());
    REQUIRE(rows.size() == 10000);
    CHECK(reply->trailers().at("x-profiled-export-rows") == "10000");
    std::map<std::string, json::object> by_id;
    for (const auto& row : rows)
        by_id[string_field(row, "user_id")] = row;
    CHECK(by_id.size() == 10000);
    CHECK(by_id.count("u0") == 1);
    CHECK(by_id.count("u5000") == 1);
    CHECK(by_id.count("late_user") == 0);
    REQUIRE(by_id.count("u9999") == 1);
    CHECK(by_id["u9999"].at("properties").at("n") == 9999);

    // The next export begins after the writes.
    auto after = exported(d, "/v1/users/export");
    REQUIRE(after.size() == 9999);
    by_id.clear();
    for (const auto& row : after)
        by_id[string_field(row, "user_id")] = row;
    CHECK(by_id.count("u0") == 0);
    CHECK(by_id.count("u5000") == 0);
    CHECK(string_field(after.back(), "user_id") == "late_user");
    CHECK(by_id["u9999"].at("properties").at("n") == "changed");
}

TEST_CASE("exports beyond --max-exports are refused with 503 too_many_exports while reads and writes go on",
          "[export][integration]")
{
    test_daemon d(fast_bulk_args({"--max-exports", "1"}));
    load(d, "users", padded_users(10000, 0, 250));
    auto first = held_export(d);

    auto refused = http_call(d.port(), "GET", "/v1/companies/export", "", auth(d.secret_key()));
    CHECK(refused.status == 503);
    CHECK(refused.error_code() == "too_many_exports");
    CHECK(refused.headers.count("retry-after") == 1);
    // Ordinary reads and writes are not held up by the export.
    CHECK(string_field(get_user(d, "u42"), "user_id") == "u42");
    CHECK(d.identify(R"({"user_id":"meanwhile","metadata":{}})").status == 202);
    CHECK(d.call("GET", "/v1/users?limit=10").status == 200);

    REQUIRE(first->read_to_end(60000));
    CHECK(first->lines().size() == 10000);
    CHECK(exported(d, "/v1/companies/export").empty());
}

TEST_CASE("a client that hangs up mid-export leaves the daemon healthy and its export slot free",
          "[export][integration]")
{
    test_daemon d(fast_bulk_args({"--max-exports", "1"}));
    load(d, "users", padded_users(10000, 0, 250));
    {
        auto gone = held_export(d);
        gone->read_at_least(20000);
        gone->close();
    }
    auto cut = d.wait_for_event("export.cut", 10000);
    REQUIRE_FALSE(cut.empty());
    CHECK(d.call("GET", "/healthz").status == 200);
    // The slot comes back once the export's snapshot is closed.
    int status = 0;
    for (int i = 0; i < 50 && status != 200; ++i) {
        streamed_reply again(d.port(), "/v1/users/export", auth(d.secret_key()));
        status = again.status();
        if (status == 200) {
            REQUIRE(again.read_to_end(60000));
            CHECK(again.lines().size() == 10000);
        } else {
            std::this_thread::sleep_for(100ms);
        }
    }
    CHECK(status == 200);
}

TEST_CASE("profiled export writes the project to stdout and checks the row count", "[export][integration][cli]")
{
    test_daemon d(fast_bulk_args());
    load(d, "users", user_rows(250));
    std::string url = "http://127.0.0.1:" + std::to_string(d.port());

    auto users = run_profiled({"export", "--url", url, "--key", d.secret_key()});
    INFO(users.err);
    REQUIRE(users.exit_code == 0);
    std::vector<std::string> lines;
    for (std::size_t pos = 0, nl; (nl = users.out.find('\n', pos)) != std::string::npos; pos = nl + 1)
        lines.push_back(users.out.substr(pos, nl - pos));
    REQUIRE(lines.size() == 250);
    CHECK(parsed(lines) == listed(d, "/v1/users", "users"));
    CHECK(users.err.find("exported 250 users") != std::string::npos);

    auto companies = run_profiled({"export", "--url", url, "--type", "companies"},
                                  {"PROFILED_API_KEY=" + d.secret_key()});
    CHECK(companies.exit_code == 0);
    CHECK(companies.out.empty());
    CHECK(companies.err.find("exported 0 companies") != std::string::npos);

    auto since = run_profiled({"export", "--url", url, "--key", d.secret_key(), "--updated-since",
                               "2999-01-01T00:00:00+01:00"});
    CHECK(since.exit_code == 0);
    CHECK(since.out.empty());

    auto bad_key = run_profiled({"export", "--url", url, "--key", "sk_live_not_a_key"});
    CHECK(bad_key.exit_code == 1);
    CHECK(bad_key.out.empty());
    CHECK(bad_key.err.find("refused") != std::string::npos);
    CHECK(bad_key.err.find("401") != std::string::npos);

    auto bad_time = run_profiled({"export", "--url", url, "--key", d.secret_key(), "--updated-since", "soon"});
    CHECK(bad_time.exit_code == 1);
    CHECK(bad_time.err.find("updated_since") != std::string::npos);

    auto no_url = run_profiled({"export", "--key", d.secret_key()});
    CHECK(no_url.exit_code == 2);
}

namespace {

// A one-shot HTTP server on 127.0.0.1: answers the first request on it with canned bytes, then closes.
class canned_server {
public:
    explicit canned_server(std::string answer) : answer_(std::move(answer))
    {
        listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
        REQUIRE(::listen(listener_, 4) == 0);
        socklen_t len = sizeof addr;
        ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len);
        port_ = ntohs(addr.sin_port);
        thread_ = std::thread([this] {
            int fd = ::accept(listener_, nullptr, nullptr);
            if (fd < 0)
                return;
            std::string request;
            char piece[4096];
            while (request.find("\r\n\r\n") == std::string::npos) {
                ssize_t n = ::recv(fd, piece, sizeof piece, 0);
                if (n <= 0)
                    break;
                request.append(piece, static_cast<std::size_t>(n));
            }
            ::send(fd, answer_.data(), answer_.size(), MSG_NOSIGNAL);
            ::close(fd);
        });
    }
    ~canned_server()
    {
        ::shutdown(listener_, SHUT_RDWR);
        thread_.join();
        ::close(listener_);
    }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

private:
    std::string answer_;
    int listener_ = -1;
    int port_ = 0;
    std::thread thread_;
};

} // namespace

TEST_CASE("profiled export fails with a clear message when the stream is cut or its count is wrong",
          "[export][integration][cli]")
{
    const std::string head = "HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n"
                             "Trailer: X-Profiled-Export-Rows\r\n\r\n";
    const std::string two_rows = "20\r\n{\"user_id\":\"a\"}\n{\"user_id\":\"b\"}\n\r\n";
    SECTION("the connection closes before the last chunk")
    {
        canned_server server(head + two_rows);
        auto r = run_profiled({"export", "--url", server.url(), "--key", "k"});
        CHECK(r.exit_code == 1);
        CHECK(r.err.find("cut after 2 rows") != std::string::npos);
        CHECK(r.out == "{\"user_id\":\"a\"}\n{\"user_id\":\"b\"}\n");
    }
    SECTION("the trailer announces other rows than arrived")
    {
        canned_server server(head + two_rows + "0\r\nX-Profiled-Export-Rows: 3\r\n\r\n");
        auto r = run_profiled({"export", "--url", server.url(), "--key", "k"});
        CHECK(r.exit_code == 1);
        CHECK(r.err.find("announced 3 rows but 2 arrived") != std::string::npos);
    }
    SECTION("a whole stream with the right count is accepted")
    {
        canned_server server(head + two_rows + "0\r\nX-Profiled-Export-Rows: 2\r\n\r\n");
        auto r = run_profiled({"export", "--url", server.url(), "--key", "k"});
        CHECK(r.exit_code == 0);
        CHECK(r.err.find("exported 2 users") != std::string::npos);
    }
}
