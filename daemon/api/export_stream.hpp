// The body of an export response: the pages an export thread reads from the snapshot, as they come.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "daemon/http/body_stream.hpp"

namespace profiled {

class export_channel;

// The trailer that ends a complete export with its row count; a body without it (without the last chunk) is cut.
inline constexpr const char* export_rows_trailer = "X-Profiled-Export-Rows";

class export_stream final : public body_stream {
public:
    // Streams what channel's export thread reads, holding the export's slot (export_pool) until destroyed; what
    // and project name it in log lines. page_timeout bounds the wait for each page from the database,
    // write_timeout the client's taking of each.
    export_stream(std::shared_ptr<export_channel> channel, std::shared_ptr<void> slot, std::string what,
                  std::int64_t project, std::chrono::seconds page_timeout, std::chrono::seconds write_timeout);
    // Cancels the export thread's reading (at its next page) and logs how the export ended.
    ~export_stream() override;

    // Waits for the first page (or the end), so that a snapshot that cannot be opened is still an error answer
    // (rethrown here) and not a cut stream.
    boost::asio::awaitable<void> start();
    boost::asio::awaitable<std::optional<std::string>> next() override;
    std::vector<std::pair<std::string, std::string>> trailers() override;
    std::chrono::seconds write_timeout() const override { return write_timeout_; }

private:
    std::shared_ptr<export_channel> channel_;
    std::shared_ptr<void> slot_;
    std::string what_;
    std::int64_t project_;
    std::chrono::seconds page_timeout_;
    std::chrono::seconds write_timeout_;
    std::optional<std::string> first_; // the page start() waited for, not yet sent
    bool at_end_ = false;
    std::uint64_t rows_ = 0; // handed to the session so far
    std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

} // namespace profiled
