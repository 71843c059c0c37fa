#include "common/ids.hpp"

#include <stdexcept>
#include <sys/random.h>

#include <fmt/format.h>

namespace profiled {

// n bytes from the kernel's CSPRNG.
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

// n characters drawn uniformly from [0-9A-Za-z].
std::string random_base62(std::size_t n)
{
    static constexpr char alphabet[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    std::string out;
    out.reserve(n);
    while (out.size() < n) {
        for (unsigned char byte : random_bytes(n)) {
            // 248 = 4 * 62: rejecting the rest keeps every character equally likely.
            if (byte < 248 && out.size() < n)
                out.push_back(alphabet[byte % 62]);
        }
    }
    return out;
}

// A new internal user id.
std::string new_user_public_id() { return "usr_" + random_base62(16); }

// A new job id: a random (version 4) UUID.
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
