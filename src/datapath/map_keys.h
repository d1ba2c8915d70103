#pragma once
// Conversions between cpp::IpAddr / IpPrefix and the map keys of abi.h.
#include <ciliumpp/abi.h>

#include "common/ip.h"

namespace cpp::datapath {

cpp_endpoint_key endpoint_key(const IpAddr& addr);
IpAddr endpoint_key_addr(const cpp_endpoint_key& key);

// The prefix is masked; prefixlen counts the static family/cluster bits.
cpp_ipcache_key ipcache_key(const IpPrefix& prefix);
// The full-length key an address is looked up with (longest match).
cpp_ipcache_key ipcache_key(const IpAddr& addr);
IpPrefix ipcache_key_prefix(const cpp_ipcache_key& key);

}  // namespace cpp::datapath
