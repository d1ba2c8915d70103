#pragma once
// The health endpoint's devices: a network namespace of its own, the veth
// `lxc_health` (node side) ↔ `eth0` (inside), addressed and routed exactly
// like a pod (cni::plumb_pod).
#include <string>

#include "cni/pod_plumbing.h"
#include "netlink/rtnl.h"

namespace cpp::health {

inline constexpr const char* kHostIfname = "lxc_health";
inline constexpr const char* kEndpointIfname = "eth0";

struct HealthPlumbing {
  cni::PlumbedPod links;
  std::string netns_path;
  bool reused = false;  // everything was already in place
};

// Makes the namespace `netns_name` hold eth0 with `net`'s addresses and
// routes, peered with lxc_health in node_nl's namespace. What is already
// right is kept (an agent restart changes nothing); anything else is rebuilt.
// Throws std::runtime_error naming the step.
HealthPlumbing ensure_health_plumbing(Netlink& node_nl, const std::string& netns_name, const cni::PodAddressing& net);

}  // namespace cpp::health
