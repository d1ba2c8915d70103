#pragma once
#include <optional>

#include "common/ip.h"
#include "netlink/link.h"
#include "netlink/rtnl.h"

namespace cpp::agent {

struct HostAddressing {
  std::optional<IpAddr> router4, router6;
  std::optional<IpPrefix> cidr4, cidr6;
  int mtu = 1500;
};

// Makes the node's cilium_host/cilium_net pair match `want`: the NOARP veth
// pair, router IPs on cilium_host, each PodCIDR routed via cilium_host, and
// the namespace sysctls the datapath needs. Idempotent (an agent restart
// finds everything in place and changes nothing). Returns cilium_host.
LinkInfo ensure_host_devices(Netlink& nl, const HostAddressing& want);

// MTU for pods: the explicit `mtu` key, else the underlay's MTU minus the
// VXLAN overhead in tunnel mode.
int derive_pod_mtu(Netlink& nl, int configured, bool tunnel);

}  // namespace cpp::agent
