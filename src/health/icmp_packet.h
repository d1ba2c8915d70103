#pragma once
// ICMP/ICMPv6 echo packets as the prober sends and expects them (pure).
#include <cstddef>
#include <cstdint>
#include <vector>

namespace cpp::health {

// RFC 1071 Internet checksum over buf.
uint16_t inet_checksum(const uint8_t* buf, size_t len);

// An echo request (type 8 / 128) with `payload_len` zero bytes. IPv4 gets its
// checksum here; for ICMPv6 the kernel fills it (raw ICMPv6 sockets always
// checksum, RFC 3542 §3.1).
std::vector<uint8_t> echo_request(bool v6, uint16_t id, uint16_t seq, size_t payload_len = 16);

// Whether buf, as a raw socket delivers it (IPv4: with the IP header; IPv6:
// the ICMPv6 message only), is the echo reply to (id, seq).
bool is_echo_reply(bool v6, const uint8_t* buf, size_t len, uint16_t id, uint16_t seq);

}  // namespace cpp::health
