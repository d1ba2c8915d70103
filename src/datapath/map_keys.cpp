#include "datapath/map_keys.h"

#include <cstring>
#include <stdexcept>

namespace cpp::datapath {
namespace {

void copy_addr(cpp_addr& dst, const IpAddr& a) {
  std::memset(&dst, 0, sizeof(dst));
  std::memcpy(dst.ip6, a.bytes.data(), a.v6 ? 16 : 4);
}

IpAddr to_addr(const cpp_addr& src, uint8_t family) {
  if (family != CPP_FAMILY_IPV4 && family != CPP_FAMILY_IPV6)
    throw std::runtime_error("map key with unknown address family " + std::to_string(family));
  IpAddr a;
  a.v6 = family == CPP_FAMILY_IPV6;
  std::memcpy(a.bytes.data(), src.ip6, a.v6 ? 16 : 4);
  return a;
}

uint8_t family_of(const IpAddr& a) { return a.v6 ? CPP_FAMILY_IPV6 : CPP_FAMILY_IPV4; }

}  // namespace

cpp_endpoint_key endpoint_key(const IpAddr& addr) {
  cpp_endpoint_key k;
  std::memset(&k, 0, sizeof(k));  // padding is part of the hashed key
  copy_addr(k.addr, addr);
  k.family = family_of(addr);
  return k;
}

IpAddr endpoint_key_addr(const cpp_endpoint_key& key) { return to_addr(key.addr, key.family); }

cpp_ipcache_key ipcache_key(const IpPrefix& prefix) {
  // IpPrefix::parse already clears host bits; re-parse guards hand-built ones.
  auto masked = IpPrefix::parse(prefix.str(), /*allow_host_bits=*/true);
  if (!masked) throw std::invalid_argument("bad prefix " + prefix.str());
  cpp_ipcache_key k;
  std::memset(&k, 0, sizeof(k));
  k.prefixlen = CPP_IPCACHE_STATIC_PREFIX_BITS + static_cast<uint32_t>(masked->len);
  k.family = family_of(masked->addr);
  copy_addr(k.addr, masked->addr);
  return k;
}

cpp_ipcache_key ipcache_key(const IpAddr& addr) { return ipcache_key(IpPrefix{addr, addr.bits()}); }

IpPrefix ipcache_key_prefix(const cpp_ipcache_key& key) {
  IpPrefix p;
  p.addr = to_addr(key.addr, key.family);
  p.len = static_cast<int>(key.prefixlen) - CPP_IPCACHE_STATIC_PREFIX_BITS;
  if (p.len < 0 || p.len > p.addr.bits())
    throw std::runtime_error("ipcache key with bad prefix length " + std::to_string(key.prefixlen));
  return p;
}

}  // namespace cpp::datapath
