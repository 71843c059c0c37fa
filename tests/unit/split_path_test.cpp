// split_path: the fast split of plain targets finds exactly the segments boost::urls finds, and every other target
// is still judged by boost::urls.
#include <catch2/catch.hpp>

#include <optional>
#include <string>
#include <vector>

#include <boost/url/parse.hpp>

#include "daemon/http/router.hpp"

using namespace profiled;

namespace {

// What boost::urls alone makes of the target: its decoded segments, or nullopt when it is no origin-form target.
std::optional<std::vector<std::string>> reference_split(std::string_view target)
{
    auto url = boost::urls::parse_origin_form(target);
    if (!url)
        return std::nullopt;
    std::vector<std::string> out;
    for (auto segment : url->segments())
        out.push_back(segment);
    return out;
}

} // namespace

TEST_CASE("split_path agrees with boost::urls on plain, encoded and invalid targets", "[http][router]")
{
    const char* targets[] = {
        "/", "/healthz", "/v1/users/", "/v1/users/u1", "/v1/background_jobs/job_abc?x=1", "/a//b", "/a/b/",
        "/v1/users/a:b@c!$&'()*+,;=-._~", "/v1/users/x?cursor=a/b?c&d=e", "/v1/users/%41%2Fb", "/v1/users/%zz",
        "//x", "/a b", "/a\"b", "x/y", "", "?q", "/a?b#c", "/a#b", "/a%", "/\x7f", "/\xc3\xa9", "/a/?/", "/?",
    };
    for (const char* target : targets) {
        INFO("target: " << target);
        CHECK(split_path(target) == reference_split(target));
    }
}
