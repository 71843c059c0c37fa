#include "common/sha256.hpp"

#include <algorithm>
#include <bit>
#include <cstddef>

namespace profiled {

namespace {

// FIPS 180-4 §4.2.2: the first 32 bits of the fractional parts of the cube roots of the first 64 primes.
constexpr std::array<std::uint32_t, 64> round_constants = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

// Mixes one 64-byte block into the running hash state (FIPS 180-4 §6.2.2).
void compress(std::array<std::uint32_t, 8>& state, const std::uint8_t* block)
{
    std::array<std::uint32_t, 64> w{};
    for (std::size_t t = 0; t < 16; ++t)
        w[t] = std::uint32_t{block[4 * t]} << 24 | std::uint32_t{block[4 * t + 1]} << 16 |
               std::uint32_t{block[4 * t + 2]} << 8 | std::uint32_t{block[4 * t + 3]};
    for (std::size_t t = 16; t < 64; ++t) {
        std::uint32_t s0 = std::rotr(w[t - 15], 7) ^ std::rotr(w[t - 15], 18) ^ (w[t - 15] >> 3);
        std::uint32_t s1 = std::rotr(w[t - 2], 17) ^ std::rotr(w[t - 2], 19) ^ (w[t - 2] >> 10);
        w[t] = w[t - 16] + s0 + w[t - 7] + s1;
    }

    auto [a, b, c, d, e, f, g, h] = state;
    for (std::size_t t = 0; t < 64; ++t) {
        std::uint32_t big_s1 = std::rotr(e, 6) ^ std::rotr(e, 11) ^ std::rotr(e, 25);
        std::uint32_t choose = (e & f) ^ (~e & g);
        std::uint32_t t1 = h + big_s1 + choose + round_constants[t] + w[t];
        std::uint32_t big_s0 = std::rotr(a, 2) ^ std::rotr(a, 13) ^ std::rotr(a, 22);
        std::uint32_t majority = (a & b) ^ (a & c) ^ (b & c);
        std::uint32_t t2 = big_s0 + majority;
        h = g;
        g = f;
        f = e;
        e = d + t1;
        d = c;
        c = b;
        b = a;
        a = t1 + t2;
    }
    const std::array<std::uint32_t, 8> mixed = {a, b, c, d, e, f, g, h};
    for (std::size_t i = 0; i < 8; ++i)
        state[i] += mixed[i];
}

// The digest's bytes as lowercase hex.
std::string to_hex(const std::array<std::uint8_t, 32>& digest)
{
    static constexpr char hex_digits[] = "0123456789abcdef";
    std::string hex;
    hex.reserve(64);
    for (std::uint8_t byte : digest) {
        hex.push_back(hex_digits[byte >> 4]);
        hex.push_back(hex_digits[byte & 0x0f]);
    }
    return hex;
}

} // namespace

// FIPS 180-4 §5.3.3: the first 32 bits of the fractional parts of the square roots of the first 8 primes.
sha256_hasher::sha256_hasher()
    : state_{0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19}
{
}

void sha256_hasher::update(std::string_view data)
{
    const auto* bytes = reinterpret_cast<const std::uint8_t*>(data.data());
    std::size_t size = data.size();
    length_ += size;
    // Top up a block left unfinished by the previous piece first.
    if (block_size_ > 0) {
        std::size_t take = std::min(size, block_.size() - block_size_);
        std::copy(bytes, bytes + take, block_.begin() + static_cast<std::ptrdiff_t>(block_size_));
        block_size_ += take;
        bytes += take;
        size -= take;
        if (block_size_ < block_.size())
            return;
        compress(state_, block_.data());
        block_size_ = 0;
    }
    // Whole blocks straight from the caller's bytes, without copying.
    for (; size >= 64; bytes += 64, size -= 64)
        compress(state_, bytes);
    std::copy(bytes, bytes + size, block_.begin());
    block_size_ = size;
}

std::array<std::uint8_t, 32> sha256_hasher::finish()
{
    // Padding (§5.1.1): the tail, a 1 bit, zeros, then the message length in bits as a
    // big-endian 64-bit number; it spills into a second block when fewer than 9 bytes are left.
    std::array<std::uint8_t, 128> tail{};
    std::copy(block_.begin(), block_.begin() + static_cast<std::ptrdiff_t>(block_size_), tail.begin());
    tail[block_size_] = 0x80;
    const std::size_t tail_blocks = block_size_ < 56 ? 1 : 2;
    const std::uint64_t bit_length = length_ * 8;
    for (std::size_t i = 0; i < 8; ++i)
        tail[64 * tail_blocks - 1 - i] = static_cast<std::uint8_t>(bit_length >> (8 * i));
    for (std::size_t i = 0; i < tail_blocks; ++i)
        compress(state_, tail.data() + 64 * i);

    std::array<std::uint8_t, 32> digest{};
    for (std::size_t i = 0; i < 32; ++i)
        digest[i] = static_cast<std::uint8_t>(state_[i / 4] >> (24 - 8 * (i % 4)));
    return digest;
}

std::string sha256_hasher::finish_hex() { return to_hex(finish()); }

std::array<std::uint8_t, 32> sha256(std::string_view data)
{
    sha256_hasher hasher;
    hasher.update(data);
    return hasher.finish();
}

std::string sha256_hex(std::string_view data) { return to_hex(sha256(data)); }

bool constant_time_equal(std::string_view a, std::string_view b)
{
    // Lengths are not secret (a digest's length is public), so an early exit on them leaks nothing.
    if (a.size() != b.size())
        return false;
    // volatile keeps the compiler from turning the loop into an early-exit memcmp.
    volatile unsigned char difference = 0;
    for (std::size_t i = 0; i < a.size(); ++i)
        difference = difference | static_cast<unsigned char>(a[i] ^ b[i]);
    return difference == 0;
}

} // namespace profiled
