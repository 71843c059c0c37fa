// The hostile-request corpus (tests/fixtures/bad/, written by scripts/gen-bad-corpus): every case sent
// raw to one daemon gets its expected status and the common error body, and the daemon stays up with
// its memory bounded.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <signal.h>
#include <sstream>
#include <string>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <catch2/catch.hpp>

#include "tests/support/test_daemon.hpp"

using namespace profiled::test;
namespace fs = std::filesystem;

namespace {

// One corpus file: what the daemon should answer and the raw request, placeholders still in.
struct bad_case {
    std::string name;
    int status = 0;
    std::string error_code; // "*" any error, "-" a success body
    std::string request;
};

// Reads every case under the corpus directory, sorted by name.
std::vector<bad_case> load_corpus(const fs::path& dir)
{
    std::vector<bad_case> out;
    for (const auto& entry : fs::recursive_directory_iterator(dir)) {
        if (!entry.is_regular_file() || entry.path().extension() != ".http")
            continue;
        std::ifstream in(entry.path(), std::ios::binary);
        std::ostringstream text;
        text << in.rdbuf();
        std::string all = text.str();
        auto nl = all.find('\n');
        bad_case c;
        c.name = fs::relative(entry.path(), dir).string();
        std::istringstream header(all.substr(0, nl));
        std::string word;
        header >> word >> c.status >> c.error_code;
        if (word != "expect" || nl == std::string::npos)
            FAIL("corpus file without an 'expect STATUS CODE' line: " << c.name);
        c.request = all.substr(nl + 1);
        out.push_back(std::move(c));
    }
    std::sort(out.begin(), out.end(), [](const bad_case& a, const bad_case& b) { return a.name < b.name; });
    return out;
}

// Replaces every occurrence of from in text.
void replace_all(std::string& text, const std::string& from, const std::string& to)
{
    for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
        text.replace(at, from.size(), to);
}

// The request with keys, {{PAD:N:TEXT}} and then {{CONTENT_LENGTH}} filled in.
std::string expand(std::string request, const test_daemon& d)
{
    replace_all(request, "{{SECRET_KEY}}", d.secret_key());
    replace_all(request, "{{PUBLIC_KEY}}", d.public_key());
    for (auto at = request.find("{{PAD:"); at != std::string::npos; at = request.find("{{PAD:", at)) {
        auto colon = request.find(':', at + 6);
        auto end = request.find("}}", colon + 1);
        REQUIRE(colon != std::string::npos);
        REQUIRE(end != std::string::npos);
        std::size_t count = std::stoul(request.substr(at + 6, colon - at - 6));
        std::string unit = request.substr(colon + 1, end - colon - 1);
        std::string pad;
        pad.reserve(count * unit.size());
        for (std::size_t i = 0; i < count; ++i)
            pad += unit;
        request.replace(at, end + 2 - at, pad);
        at += pad.size();
    }
    auto body = request.find("\r\n\r\n");
    std::size_t length = body == std::string::npos ? 0 : request.size() - body - 4;
    replace_all(request, "{{CONTENT_LENGTH}}", std::to_string(length));
    return request;
}

// Sends the bytes on a fresh connection, shuts the write side (a short body then ends in EOF, not a
// timeout) and returns everything the daemon sent until it closed.
std::string exchange(int port, const std::string& request)
{
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    std::string received;
    char buf[65536];
    std::size_t sent = 0;
    bool writing = true;
    // Reads while writing: the daemon may answer (413) and stop reading before the request is all sent.
    while (true) {
        pollfd p{fd, static_cast<short>(POLLIN | (writing ? POLLOUT : 0)), 0};
        if (::poll(&p, 1, 30000) <= 0)
            break;
        if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t n = ::recv(fd, buf, sizeof buf, 0);
            if (n <= 0)
                break;
            received.append(buf, static_cast<std::size_t>(n));
            continue;
        }
        if (writing && (p.revents & POLLOUT)) {
            ssize_t n = ::send(fd, request.data() + sent, std::min<std::size_t>(request.size() - sent, 65536),
                               MSG_NOSIGNAL);
            if (n > 0)
                sent += static_cast<std::size_t>(n);
            if (n <= 0 || sent == request.size()) {
                ::shutdown(fd, SHUT_WR);
                writing = false;
            }
        }
    }
    ::close(fd);
    return received;
}

// The first response in raw: its status and body (by Content-Length); status 0 when there is none.
struct raw_reply {
    int status = 0;
    std::string body;
};
raw_reply first_response(const std::string& raw)
{
    raw_reply r;
    auto head_end = raw.find("\r\n\r\n");
    if (raw.rfind("HTTP/1.", 0) != 0 || head_end == std::string::npos)
        return r;
    r.status = std::stoi(raw.substr(9, 3));
    std::string head = raw.substr(0, head_end);
    std::string lower = head;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    auto cl = lower.find("\r\ncontent-length:");
    std::size_t length = cl == std::string::npos ? 0 : std::stoul(head.substr(cl + 17));
    r.body = raw.substr(head_end + 4, length);
    return r;
}

// The daemon's resident memory in kB, from /proc/PID/status.
long rss_kb(pid_t pid)
{
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("VmRSS:", 0) == 0)
            return std::stol(line.substr(6));
    }
    return -1;
}

// True while the process exists and is not a zombie.
bool running(pid_t pid)
{
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string stat;
    std::getline(in, stat);
    auto paren = stat.rfind(')');
    return paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] != 'Z';
}

// Checks the reply against the case: the status, then the common error body or a success body.
// CHECKs only, so one wrong answer does not hide the rest of the corpus.
void check_reply(const bad_case& c, const raw_reply& r)
{
    CHECK(r.status == c.status);
    boost::system::error_code ec;
    auto body = boost::json::parse(r.body, ec);
    if (ec || !body.is_object()) {
        FAIL_CHECK("the body is not a JSON object: " << r.body.substr(0, 200));
        return;
    }
    const auto& o = body.as_object();
    if (c.error_code == "-") {
        CHECK_FALSE(o.contains("errors"));
        return;
    }
    CHECK((o.if_contains("success") && *o.if_contains("success") == false));
    const auto* errors = o.if_contains("errors");
    if (!errors || !errors->is_array() || errors->as_array().size() != 1 || !errors->as_array()[0].is_object()) {
        FAIL_CHECK("no errors array with one error object: " << r.body.substr(0, 200));
        return;
    }
    const auto& e = errors->as_array()[0].as_object();
    const auto* code = e.if_contains("error_code");
    const auto* message = e.if_contains("message");
    const auto* details = e.if_contains("details");
    CHECK((code && code->is_string()));
    CHECK((message && message->is_string() && !message->as_string().empty()));
    CHECK((details && details->is_object()));
    if (c.error_code != "*" && code)
        CHECK(*code == c.error_code.c_str());
}

#if defined(__SANITIZE_ADDRESS__)
// AddressSanitizer's shadow memory and quarantine (256 MB by default) count against RSS.
constexpr long rss_limit_kb = 512 * 1024;
constexpr long rss_growth_limit_kb = 320 * 1024;
#else
constexpr long rss_limit_kb = 100 * 1024;
// What the whole corpus may leave behind: nothing a request sent may stay buffered.
constexpr long rss_growth_limit_kb = 8 * 1024;
#endif

} // namespace

TEST_CASE("every hostile request gets its 4xx and the common error body while the daemon stays up and small",
          "[bad_input][corpus][http][integration]")
{
    auto corpus = load_corpus(fs::path(PROFILED_SOURCE_DIR) / "tests" / "fixtures" / "bad");
    REQUIRE(corpus.size() >= 200);
    test_daemon d;
    // A few ordinary requests first, so the baseline holds what any serving daemon holds (store, caches).
    for (int i = 0; i < 20; ++i) {
        REQUIRE(http_call(d.port(), "GET", "/healthz").status == 200);
        REQUIRE(d.identify(R"({"user_id":"warm-)" + std::to_string(i) + R"(","metadata":{"plan":"pro"}})").status ==
                202);
    }
    long rss_before = rss_kb(d.pid());
    REQUIRE(rss_before > 0);
    for (const auto& c : corpus) {
        CAPTURE(c.name, c.status, c.error_code);
        std::string raw = exchange(d.port(), expand(c.request, d));
        CAPTURE(raw.substr(0, 600));
        check_reply(c, first_response(raw));
        // A daemon that crashed on this case fails here, on the case that did it.
        REQUIRE(running(d.pid()));
        REQUIRE(http_call(d.port(), "GET", "/healthz").status == 200);
    }
    // Still serving normal clients after all of it.
    REQUIRE(running(d.pid()));
    auto health = http_call(d.port(), "GET", "/healthz");
    REQUIRE(health.status == 200);
    long rss_after = rss_kb(d.pid());
    CAPTURE(rss_before, rss_after);
    REQUIRE(rss_after > 0);
    CHECK(rss_after < rss_limit_kb);
    REQUIRE(rss_after - rss_before <= rss_growth_limit_kb);
}
