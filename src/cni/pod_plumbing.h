#pragma once
#include <optional>
#include <string>

#include "common/ip.h"
#include "netlink/link.h"
#include "netlink/rtnl.h"

namespace cpp::cni {

struct PodAddressing {
  std::optional<IpAddr> ipv4, ipv6;
  std::optional<IpAddr> gateway4, gateway6;  // the node's router IPs
  int mtu = 1500;
};

struct PlumbedPod {
  LinkInfo host;  // lxc... in the node namespace
  LinkInfo pod;   // eth0 in the pod namespace
};

// Creates the veth pair (host end in the namespace `node_nl` manages, pod end
// in `pod_netns`), addresses the pod end (/32, /128 nodad) and routes
// everything via the router IPs, the way upstream Cilium plumbs a pod. On any
// failure the pair is removed before the exception leaves.
PlumbedPod plumb_pod(Netlink& node_nl, const std::string& pod_netns, const std::string& host_if,
                     const std::string& pod_if, const PodAddressing& net);

// Empty when the pod side looks as plumb_pod left it; otherwise what is wrong.
std::string check_pod(const std::string& pod_netns, const std::string& pod_if, const PodAddressing& net);

}  // namespace cpp::cni
