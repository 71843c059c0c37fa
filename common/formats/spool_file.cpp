#include "common/formats/spool_file.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

namespace profiled {

namespace fs = std::filesystem;

namespace {

constexpr std::size_t write_buffer_bytes = 256 * 1024;
constexpr std::size_t read_buffer_bytes = 256 * 1024;

// Throws a spool_error for errno with context.
[[noreturn]] void fail(const std::string& what, int error)
{
    bool full = error == ENOSPC || error == EDQUOT;
    throw spool_error(fmt::format("{}: {}", what, std::strerror(error)), full);
}

// fsyncs a directory so a rename inside it is durable.
void fsync_directory(const fs::path& dir)
{
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        fail("open " + dir.string(), errno);
    int rc = ::fsync(fd);
    int error = errno;
    ::close(fd);
    if (rc != 0)
        fail("fsync " + dir.string(), error);
}

} // namespace

fs::path spool_path(const fs::path& spool_dir, const std::string& job_id) { return spool_dir / (job_id + ".ndjson"); }

spool_writer::spool_writer(fs::path spool_dir, std::string job_id)
    : dir_(std::move(spool_dir)), part_path_(dir_ / (job_id + ".part")), final_path_(spool_path(dir_, job_id))
{
    fd_ = ::open(part_path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd_ < 0)
        fail("create " + part_path_.string(), errno);
    buffer_.reserve(write_buffer_bytes);
}

spool_writer::~spool_writer()
{
    if (!committed_)
        discard();
    else if (fd_ >= 0)
        ::close(fd_);
}

void spool_writer::append(std::string_view data)
{
    size_ += data.size();
    if (buffer_.size() + data.size() > write_buffer_bytes)
        flush();
    if (data.size() >= write_buffer_bytes) {
        buffer_.append(data);
        flush();
        return;
    }
    buffer_.append(data);
}

// Writes the buffer to the file.
void spool_writer::flush()
{
    std::size_t done = 0;
    while (done < buffer_.size()) {
        ssize_t n = ::write(fd_, buffer_.data() + done, buffer_.size() - done);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            fail("write " + part_path_.string(), errno);
        }
        done += static_cast<std::size_t>(n);
    }
    buffer_.clear();
}

void spool_writer::commit()
{
    flush();
    if (::fsync(fd_) != 0)
        fail("fsync " + part_path_.string(), errno);
    ::close(fd_);
    fd_ = -1;
    if (::rename(part_path_.c_str(), final_path_.c_str()) != 0)
        fail("rename " + part_path_.string(), errno);
    committed_ = true;
    fsync_directory(dir_);
}

void spool_writer::discard()
{
    if (discarded_)
        return;
    discarded_ = true;
    if (fd_ >= 0) {
        ::close(fd_);
        fd_ = -1;
    }
    std::error_code ec;
    fs::remove(committed_ ? final_path_ : part_path_, ec);
}

namespace {

// A spool file's bytes, read with read(2).
class file_source final : public spool_source {
public:
    file_source(const fs::path& path, std::int64_t offset)
    {
        fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd_ < 0)
            fail("open " + path.string(), errno);
        if (::lseek(fd_, offset, SEEK_SET) < 0) {
            int error = errno;
            ::close(fd_);
            fail("seek " + path.string(), error);
        }
    }
    ~file_source() override { ::close(fd_); }
    file_source(const file_source&) = delete;
    file_source& operator=(const file_source&) = delete;

    std::size_t read(char* into, std::size_t max) override
    {
        ssize_t n;
        do {
            n = ::read(fd_, into, max);
        } while (n < 0 && errno == EINTR);
        if (n < 0)
            fail("read spool file", errno);
        return static_cast<std::size_t>(n);
    }

private:
    int fd_ = -1;
};

} // namespace

std::unique_ptr<spool_source> spool_file_source(const fs::path& path, std::int64_t offset)
{
    return std::make_unique<file_source>(path, offset);
}

spool_reader::spool_reader(const fs::path& path, std::int64_t offset, std::int64_t line)
    : spool_reader(spool_file_source(path, offset), offset, line)
{
}

spool_reader::spool_reader(std::unique_ptr<spool_source> source, std::int64_t offset, std::int64_t line)
    : source_(std::move(source)), offset_(offset), line_(line)
{
}

spool_reader::~spool_reader() = default;

// Reads more of the spool; false at its end.
bool spool_reader::refill()
{
    if (eof_)
        return false;
    buffer_.erase(0, pos_);
    pos_ = 0;
    std::size_t old = buffer_.size();
    buffer_.resize(old + read_buffer_bytes);
    std::size_t n = 0;
    try {
        n = source_->read(buffer_.data() + old, read_buffer_bytes);
    } catch (...) {
        buffer_.resize(old);
        throw;
    }
    buffer_.resize(old + n);
    if (n == 0)
        eof_ = true;
    return n > 0;
}

std::optional<spool_row> spool_reader::next()
{
    for (;;) {
        std::size_t nl = buffer_.find('\n', pos_);
        while (nl == std::string::npos) {
            std::size_t searched = buffer_.size() - pos_;
            if (!refill()) {
                // A final line without a newline still counts (the intake always writes one, but be lenient).
                if (pos_ >= buffer_.size())
                    return std::nullopt;
                nl = buffer_.size();
                break;
            }
            nl = buffer_.find('\n', pos_ + searched);
        }
        std::string_view text(buffer_.data() + pos_, nl - pos_);
        std::int64_t consumed = static_cast<std::int64_t>(text.size()) + (nl < buffer_.size() ? 1 : 0);
        pos_ = std::min(buffer_.size(), nl + 1);
        offset_ += consumed;
        ++line_;
        if (text.find_first_not_of(" \t\r") == std::string_view::npos)
            continue;
        return spool_row{std::string(text), line_, offset_};
    }
}

} // namespace profiled
