#include "daemon/webhooks/address_policy.hpp"

#include <algorithm>
#include <array>
#include <cstdint>

namespace profiled {

namespace {

// Whether the IPv4 address (host order) is a public unicast one.
bool is_public_v4(std::uint32_t a)
{
    struct block {
        std::uint32_t net;
        int bits;
    };
    static constexpr std::array<block, 15> blocked{{
        {0x00000000, 8},  // 0.0.0.0/8 "this network"
        {0x0A000000, 8},  // 10/8
        {0x64400000, 10}, // 100.64/10 carrier-grade NAT
        {0x7F000000, 8},  // loopback
        {0xA9FE0000, 16}, // link-local
        {0xAC100000, 12}, // 172.16/12
        {0xC0000000, 24}, // IETF protocol assignments
        {0xC0000200, 24}, // TEST-NET-1
        {0xC0A80000, 16}, // 192.168/16
        {0xC6120000, 15}, // benchmarking
        {0xC6336400, 24}, // TEST-NET-2
        {0xCB007100, 24}, // TEST-NET-3
        {0xE0000000, 4},  // multicast
        {0xF0000000, 4},  // reserved, and the broadcast address
        {0xC0586300, 24}, // 6to4 relay anycast
    }};
    for (const auto& b : blocked) {
        std::uint32_t mask = b.bits == 0 ? 0 : ~std::uint32_t{0} << (32 - b.bits);
        if ((a & mask) == b.net)
            return false;
    }
    return true;
}

} // namespace

bool is_public_address(const boost::asio::ip::address& address)
{
    if (address.is_v4())
        return is_public_v4(address.to_v4().to_uint());
    const auto v6 = address.to_v6();
    const auto b = v6.to_bytes();
    auto embedded_v4 = [&b] {
        return (std::uint32_t{b[12]} << 24) | (std::uint32_t{b[13]} << 16) | (std::uint32_t{b[14]} << 8) | b[15];
    };
    if (v6.is_v4_mapped())
        return is_public_v4(embedded_v4());
    bool first_96_zero = true;
    for (int i = 0; i < 12; ++i)
        first_96_zero = first_96_zero && b[i] == 0;
    if (first_96_zero) // ::, ::1 and the deprecated IPv4-compatible ::a.b.c.d
        return !v6.is_unspecified() && !v6.is_loopback() && is_public_v4(embedded_v4());
    // NAT64 64:ff9b::/96 carries an IPv4 address too.
    static constexpr std::array<unsigned char, 12> nat64{0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
    if (std::equal(nat64.begin(), nat64.end(), b.begin()))
        return is_public_v4(embedded_v4());
    if ((b[0] & 0xfe) == 0xfc) // fc00::/7 unique local
        return false;
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) // fe80::/10 link-local
        return false;
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) // fec0::/10 site-local (deprecated)
        return false;
    if (b[0] == 0xff) // multicast
        return false;
    if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8) // 2001:db8::/32 documentation
        return false;
    return true;
}

} // namespace profiled
