#pragma once
#include <cstdint>
#include <optional>

#include "common/ip.h"

namespace cpp::datapath {

// Load-time constants of bpf_netdev (the NAT_* / NATIVE_CIDR* globals of
// bpf/lib/nat.h). A missing address switches masquerading of that family
// off; a missing native-routing CIDR means "every non-cluster destination".
struct NatConsts {
  std::optional<IpAddr> ipv4;  // the node's address SNAT uses
  std::optional<IpAddr> ipv6;
  std::optional<IpPrefix> native_cidr4;  // ipv4-native-routing-cidr
  std::optional<IpPrefix> native_cidr6;  // ipv6-native-routing-cidr
  uint16_t port_min = 32768;             // upstream's SNAT port range
  uint16_t port_max = 60999;
};

}  // namespace cpp::datapath
