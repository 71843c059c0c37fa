// Which addresses a webhook may be delivered to: the guard against requests into the daemon's own network (SSRF).
#pragma once

#include <boost/asio/ip/address.hpp>

namespace profiled {

// Whether the address is a public unicast one: not unspecified, loopback, private (RFC 1918, fc00::/7,
// 100.64/10), link-local, multicast, reserved or documentation, nor one of those in an IPv4-mapped, -compatible
// or NAT64 IPv6 form.
bool is_public_address(const boost::asio::ip::address& address);

} // namespace profiled
