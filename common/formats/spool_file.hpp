// Spool files: an upload written to spool/<job_id>.part, made durable as spool/<job_id>.ndjson, read back by the runner.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace profiled {

// A spool file could not be written or read; disk_full says whether the cause was ENOSPC/EDQUOT.
class spool_error : public std::runtime_error {
public:
    spool_error(const std::string& message, bool disk_full) : std::runtime_error(message), disk_full_(disk_full) {}
    bool disk_full() const noexcept { return disk_full_; }

private:
    bool disk_full_;
};

// Where a job's durable spool file lives.
std::filesystem::path spool_path(const std::filesystem::path& spool_dir, const std::string& job_id);

// Writes an upload's NDJSON rows; nothing is left behind unless commit() succeeded.
class spool_writer {
public:
    // Creates spool_dir/<job_id>.part; the job id is ours, never the client's.
    spool_writer(std::filesystem::path spool_dir, std::string job_id);
    ~spool_writer();
    spool_writer(const spool_writer&) = delete;
    spool_writer& operator=(const spool_writer&) = delete;

    // Appends bytes (buffered).
    void append(std::string_view data);
    // Flushes, fsyncs, renames .part to .ndjson and fsyncs the directory: after this the file survives a crash.
    void commit();
    // Removes the file, committed or not.
    void discard();
    // Bytes appended so far.
    std::uint64_t size() const { return size_; }
    const std::filesystem::path& final_path() const { return final_path_; }

private:
    void flush();

    std::filesystem::path dir_;
    std::filesystem::path part_path_;
    std::filesystem::path final_path_;
    int fd_ = -1;
    std::string buffer_;
    std::uint64_t size_ = 0;
    bool committed_ = false;
    bool discarded_ = false;
};

// One row read back from a spool file.
struct spool_row {
    std::string text;
    std::int64_t line = 0;        // 1-based line number in the upload
    std::int64_t end_offset = 0;  // byte offset just after this row's newline
};

// The bytes of a spool from some offset on, wherever they are kept.
class spool_source {
public:
    virtual ~spool_source() = default;
    // Copies the next bytes (at most max) into `into`; how many, 0 at the end. Throws spool_error (or the store's
    // error) when they cannot be read.
    virtual std::size_t read(char* into, std::size_t max) = 0;
};

// The bytes of a spool file from offset on; opens the file (throwing spool_error when it cannot).
std::unique_ptr<spool_source> spool_file_source(const std::filesystem::path& path, std::int64_t offset);

// Reads rows from a spool starting at a checkpoint (byte offset and the line number before it).
class spool_reader {
public:
    // Rows of a spool file.
    spool_reader(const std::filesystem::path& path, std::int64_t offset, std::int64_t line);
    // Rows of the bytes source gives, which start at the checkpoint's offset.
    spool_reader(std::unique_ptr<spool_source> source, std::int64_t offset, std::int64_t line);
    ~spool_reader();
    spool_reader(const spool_reader&) = delete;
    spool_reader& operator=(const spool_reader&) = delete;

    // The next non-blank row, or nothing at end of file.
    std::optional<spool_row> next();
    // The position after the last row or blank line read.
    std::int64_t offset() const { return offset_; }
    std::int64_t line() const { return line_; }

private:
    bool refill();

    std::unique_ptr<spool_source> source_;
    std::string buffer_;
    std::size_t pos_ = 0;
    std::int64_t offset_ = 0;
    std::int64_t line_ = 0;
    bool eof_ = false;
};

} // namespace profiled
