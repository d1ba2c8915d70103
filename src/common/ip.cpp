#include "common/ip.h"

#include <arpa/inet.h>

#include <cstring>

namespace cpp {

std::optional<IpAddr> IpAddr::parse(const std::string& s) {
  IpAddr a;
  if (s.find(':') != std::string::npos) {
    a.v6 = true;
    if (inet_pton(AF_INET6, s.c_str(), a.bytes.data()) != 1) return std::nullopt;
  } else {
    if (inet_pton(AF_INET, s.c_str(), a.bytes.data()) != 1) return std::nullopt;
  }
  return a;
}

std::string IpAddr::str() const {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(v6 ? AF_INET6 : AF_INET, bytes.data(), buf, sizeof(buf));
  return buf;
}

IpAddr IpAddr::offset(int64_t n) const {
  IpAddr r = *this;
  int last = v6 ? 15 : 3;
  // Two's-complement add of n across the address bytes, big-endian.
  uint64_t add = static_cast<uint64_t>(n);
  int carry = 0;
  for (int i = last; i >= 0; --i) {
    int shift = (last - i) * 8;
    uint64_t byte_add = shift < 64 ? (add >> shift) & 0xff : (n < 0 ? 0xff : 0);
    int sum = r.bytes[i] + static_cast<int>(byte_add) + carry;
    r.bytes[i] = static_cast<uint8_t>(sum & 0xff);
    carry = sum >> 8;
  }
  return r;
}

std::optional<IpPrefix> IpPrefix::parse(const std::string& s, bool allow_host_bits) {
  auto slash = s.find('/');
  if (slash == std::string::npos) return std::nullopt;
  auto a = IpAddr::parse(s.substr(0, slash));
  if (!a) return std::nullopt;
  std::string lens = s.substr(slash + 1);
  if (lens.empty() || lens.size() > 3 || lens.find_first_not_of("0123456789") != std::string::npos)
    return std::nullopt;
  int len = std::stoi(lens);
  if (len > a->bits()) return std::nullopt;
  IpPrefix p{*a, len};
  IpAddr masked = *a;
  for (int i = 0; i < a->bits() / 8; ++i) {
    int keep = len - i * 8;
    uint8_t mask = keep >= 8 ? 0xff : keep <= 0 ? 0 : static_cast<uint8_t>(0xff << (8 - keep));
    masked.bytes[i] &= mask;
  }
  if (!allow_host_bits && !(masked == *a)) return std::nullopt;
  p.addr = masked;
  return p;
}

std::string IpPrefix::str() const { return addr.str() + "/" + std::to_string(len); }

bool IpPrefix::contains(const IpAddr& a) const {
  if (a.v6 != addr.v6) return false;
  for (int i = 0; i < addr.bits() / 8; ++i) {
    int keep = len - i * 8;
    if (keep <= 0) break;
    uint8_t mask = keep >= 8 ? 0xff : static_cast<uint8_t>(0xff << (8 - keep));
    if ((a.bytes[i] & mask) != (addr.bytes[i] & mask)) return false;
  }
  return true;
}

uint64_t IpPrefix::size() const {
  int host = addr.bits() - len;
  if (host >= 62) return uint64_t{1} << 62;
  return uint64_t{1} << host;
}

}  // namespace cpp
