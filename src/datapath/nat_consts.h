#pragma once
#include <cstdint>
#include <optional>

#include "common/ip.h"

namespace cpp::datapath {

// Load-time constants of bpf_netdev (the NAT_* / NATIVE_CIDR* globals of
// bpf/lib/nat.h). The addresses are the node's on the device: masquerading
// and NodePort SNAT (kube-proxy replacement) translate to them; a family
// without one is translated by neither. A missing native-routing CIDR means
// "every non-cluster destination".
struct NatConsts {
  std::optional<IpAddr> ipv4;  // the node's address SNAT uses
  std::optional<IpAddr> ipv6;
  std::optional<IpPrefix> native_cidr4;  // ipv4-native-routing-cidr
  std::optional<IpPrefix> native_cidr6;  // ipv6-native-routing-cidr
  uint16_t port_min = 32768;             // upstream's SNAT port range
  uint16_t port_max = 60999;
  // Per family: pods' world traffic is masqueraded (MASQUERADE_IPV4/6).
  // Off, bpf_netdev only does NodePort on the device for that family.
  bool masquerade_ipv4 = true;
  bool masquerade_ipv6 = true;
};

}  // namespace cpp::datapath
