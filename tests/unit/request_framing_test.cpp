// Framing checks on a request's header: Host, Transfer-Encoding, Content-Length, Content-Encoding, target form.
#include <catch2/catch.hpp>

#include "daemon/http/request_framing.hpp"

using namespace profiled;

namespace {

// A request with the given (lower-case) headers.
http_request with_headers(std::vector<std::pair<std::string, std::string>> headers)
{
    http_request r;
    r.method = "POST";
    r.target = "/v1/identify";
    r.headers = std::move(headers);
    return r;
}

} // namespace

TEST_CASE("read_body_framing refuses what would leave a body's end to guesswork", "[framing][unit]")
{
    using headers = std::vector<std::pair<std::string, std::string>>;
    std::string name;
    headers list;
    unsigned version;
    bool has_length;
    std::string code;
    std::tie(name, list, version, has_length, code) = GENERATE(table<std::string, headers, unsigned, bool, std::string>({
        {"HTTP/1.1 without Host", {}, 11, false, "invalid_host"},
        {"two Host headers", {{"host", "a"}, {"host", "b"}}, 11, false, "invalid_host"},
        {"two Host headers in HTTP/1.0", {{"host", "a"}, {"host", "b"}}, 10, false, "invalid_host"},
        {"gzip, chunked", {{"host", "a"}, {"transfer-encoding", "gzip, chunked"}}, 11, false, "unsupported_transfer_encoding"},
        {"chunked, gzip", {{"host", "a"}, {"transfer-encoding", "chunked, gzip"}}, 11, false, "unsupported_transfer_encoding"},
        {"identity", {{"host", "a"}, {"transfer-encoding", "identity"}}, 11, false, "unsupported_transfer_encoding"},
        {"two Transfer-Encoding headers", {{"host", "a"}, {"transfer-encoding", "chunked"}, {"transfer-encoding", "chunked"}}, 11, false, "unsupported_transfer_encoding"},
        {"Transfer-Encoding with Content-Length", {{"host", "a"}, {"transfer-encoding", "chunked"}}, 11, true, "unsupported_transfer_encoding"},
        {"HTTP/1.0 with Transfer-Encoding", {{"transfer-encoding", "chunked"}}, 10, false, "unsupported_transfer_encoding"},
        {"Content-Encoding gzip", {{"host", "a"}, {"content-encoding", "gzip"}}, 11, true, "unsupported_content_encoding"},
        {"Content-Encoding br", {{"host", "a"}, {"content-encoding", " br "}}, 11, true, "unsupported_content_encoding"},
    }));
    CAPTURE(name);
    auto framing = read_body_framing(with_headers(list), version, has_length ? std::optional<std::uint64_t>(5) : std::nullopt);
    REQUIRE_FALSE(framing.has_value());
    CHECK(framing.error().code == code);
}

TEST_CASE("read_body_framing reads the framing of well-formed requests", "[framing][unit]")
{
    SECTION("chunked, in any case and with spaces")
    {
        auto f = read_body_framing(with_headers({{"host", "a"}, {"transfer-encoding", " Chunked "}}), 11, std::nullopt);
        REQUIRE(f.has_value());
        CHECK(f->chunked);
        CHECK(f->has_body());
    }
    SECTION("Content-Length, with Content-Encoding identity")
    {
        auto f = read_body_framing(with_headers({{"host", "a"}, {"content-encoding", "identity"}}), 11, 12);
        REQUIRE(f.has_value());
        CHECK_FALSE(f->chunked);
        CHECK(f->content_length == 12);
    }
    SECTION("no body at all; HTTP/1.0 may leave Host out")
    {
        auto f = read_body_framing(with_headers({}), 10, std::nullopt);
        REQUIRE(f.has_value());
        CHECK_FALSE(f->has_body());
    }
}

TEST_CASE("origin_form cuts absolute-form targets down to path and query", "[framing][unit]")
{
    std::string target, expected;
    std::tie(target, expected) = GENERATE(table<std::string, std::string>({
        {"/healthz", "/healthz"},
        {"http://localhost/healthz", "/healthz"},
        {"http://localhost:8080/v1/background_jobs?limit=2", "/v1/background_jobs?limit=2"},
        {"HTTPS://example.com", "/"},
        {"ftp://example.com/x", "ftp://example.com/x"},
        {"*", "*"},
    }));
    CAPTURE(target);
    CHECK(origin_form(target) == expected);
}
