#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>

namespace cpp {

// One IPv4 or IPv6 address. Bytes are in network order; an IPv4 address uses
// the first four bytes, matching union cpp_addr in the BPF ABI.
struct IpAddr {
  bool v6 = false;
  std::array<uint8_t, 16> bytes{};

  static std::optional<IpAddr> parse(const std::string& s);
  std::string str() const;
  int bits() const { return v6 ? 128 : 32; }
  // Address plus n (n may be negative), wrapping within the family.
  IpAddr offset(int64_t n) const;
  bool operator==(const IpAddr&) const = default;
  auto operator<=>(const IpAddr&) const = default;
};

struct IpPrefix {
  IpAddr addr;  // network address (host bits cleared)
  int len = 0;

  // Accepts "a.b.c.d/n" or "x::/n"; rejects host bits set unless lenient.
  static std::optional<IpPrefix> parse(const std::string& s, bool allow_host_bits = false);
  std::string str() const;
  bool contains(const IpAddr& a) const;
  // Number of addresses, saturated at 2^62 for large IPv6 prefixes.
  uint64_t size() const;
  IpAddr nth(uint64_t n) const { return addr.offset(static_cast<int64_t>(n)); }
  bool operator==(const IpPrefix&) const = default;
  auto operator<=>(const IpPrefix&) const = default;
};

}  // namespace cpp
