#include "common/profiles/ids.hpp"

#include <stdexcept>
#include <sys/random.h>

#include <fmt/format.h>

namespace profiled {

std::string random_bytes(std::size_t n)
{
    std::string out(n, '\0');
    std::size_t filled = 0;
    while (filled < n) {
        ssize_t got = getrandom(out.data() + filled, n - filled, 0);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            throw std::runtime_error("getrandom failed");
        }
        filled += static_cast<std::size_t>(got);
    }
    return out;
}

namespace {

// Kernel randomness fetched 4 KB at a time per thread: ids are made for every new user, and one
// getrandom call per id showed up in bulk-job profiles.
class random_pool {
public:
    // The next random byte.
    unsigned char next()
    {
        if (used_ == bytes_.size()) {
            bytes_ = random_bytes(4096);
            used_ = 0;
        }
        return static_cast<unsigned char>(bytes_[used_++]);
    }

private:
    std::string bytes_;
    std::size_t used_ = 0;
};

} // namespace

std::string random_base62(std::size_t n)
{
    static constexpr char alphabet[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    thread_local random_pool pool;
    std::string out;
    out.reserve(n);
    while (out.size() < n) {
        unsigned char byte = pool.next();
        // 248 = 4 * 62: rejecting the rest keeps every character equally likely.
        if (byte < 248)
            out.push_back(alphabet[byte % 62]);
    }
    return out;
}

std::string new_user_public_id() { return "usr_" + random_base62(16); }

std::string new_job_id()
{
    std::string b = random_bytes(16);
    b[6] = static_cast<char>((b[6] & 0x0f) | 0x40);
    b[8] = static_cast<char>((b[8] & 0x3f) | 0x80);
    std::string hex;
    for (std::size_t i = 0; i < b.size(); ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            hex.push_back('-');
        hex += fmt::format("{:02x}", static_cast<unsigned char>(b[i]));
    }
    return hex;
}

} // namespace profiled
