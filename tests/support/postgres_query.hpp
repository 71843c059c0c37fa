// Reading a PostgreSQL database straight, for tests that check what several daemons left in it.
#pragma once

#include <string>
#include <vector>

namespace profiled::test {

// The rows the statement returns, each column as text ("" for NULL); throws when it fails.
std::vector<std::vector<std::string>> query_rows(const std::string& url, const std::string& sql);
// The first column of the first row the statement returns, as a number; throws when there is none.
long long query_number(const std::string& url, const std::string& sql);

} // namespace profiled::test
