#pragma once
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/ipcache_owners.h"
#include "common/ip.h"

namespace cpp::agent {

// What this node needs to reach the others through the VXLAN overlay,
// computed from the cluster's CiliumNode and CiliumEndpoint objects. Pure:
// no kernel, no store.
//
// For every node other than this one (CiliumNode, name = node name), with
// its IPv4 InternalIP as tunnel endpoint:
//   - each PodCIDR (spec.ipam.podCIDRs): ipcache world + tunnel (a tunnel
//     route, as upstream) and a route via cilium_host;
//   - each address (spec.addresses): remote-node; CiliumInternalIP (the
//     node's router IP, inside its PodCIDR) also through the tunnel, the
//     underlay addresses not;
//   - its health addresses (spec.health): health + tunnel.
// For every endpoint of another node (CiliumEndpoint whose
// status.networking.node, the hosting node's IP, is not ours): each
// address with status.identity.id and that node IP as tunnel endpoint.
//
// Objects that make no sense are skipped with a warning naming them; they
// never stop the rest.
struct OverlayState {
  std::map<std::pair<IpPrefix, IpcacheSource>, IpcacheClaim> ipcache;
  std::set<IpPrefix> routes;  // remote PodCIDRs, routed via cilium_host
  std::vector<std::string> warnings;
};

struct OverlaySelf {
  std::string node_name;
  std::set<IpAddr> node_ips;          // this node's underlay addresses
  std::vector<IpPrefix> pod_cidrs;    // this node's own PodCIDRs
};

OverlayState compute_overlay_state(const OverlaySelf& self, const std::vector<nlohmann::json>& nodes,
                                   const std::vector<nlohmann::json>& endpoints);

}  // namespace cpp::agent
