#include "health/plumbing.h"

#include <stdexcept>

#include "health/named_netns.h"
#include "netlink/netns.h"

namespace cpp::health {
namespace {

// eth0 inside the namespace, when it is lxc_health's peer and addressed as wanted.
std::optional<LinkInfo> intact_peer(const NetnsHandle& ns, const std::string& path, const LinkInfo& host,
                                    const cni::PodAddressing& net) {
  if (!cni::check_pod(path, kEndpointIfname, net).empty()) return std::nullopt;
  auto pod = run_in_netns(ns, [] { return Netlink().get_link(kEndpointIfname); });
  if (!pod || pod->ifindex != host.peer_ifindex) return std::nullopt;
  return pod;
}

}  // namespace

HealthPlumbing ensure_health_plumbing(Netlink& node_nl, const std::string& netns_name, const cni::PodAddressing& net) {
  HealthPlumbing out;
  out.netns_path = netns_path_for_name(netns_name);
  ensure_named_netns(netns_name);
  NetnsHandle ns = NetnsHandle::open_path(out.netns_path);
  if (auto host = node_nl.get_link(kHostIfname); host && host->up) {
    if (auto pod = intact_peer(ns, out.netns_path, *host, net)) {
      out.links = {*host, *pod};
      out.reused = true;
      return out;
    }
  }
  // An eth0 that is not our lxc_health's peer belongs to another veth pair:
  // most likely another node configured with the same health-netns.
  auto host = node_nl.get_link(kHostIfname);
  auto pod = run_in_netns(ns, [] { return Netlink().get_link(kEndpointIfname); });
  if (pod && (!host || host->peer_ifindex != pod->ifindex))
    throw std::runtime_error("namespace " + netns_name + " already holds an " + kEndpointIfname +
                             " that is not the peer of this node's " + kHostIfname +
                             " (is health-netns shared with another node?)");
  // Rebuild: a veth's two ends go together, so removing lxc_health also
  // removes its stale eth0.
  node_nl.remove_link(kHostIfname);
  out.links = cni::plumb_pod(node_nl, out.netns_path, kHostIfname, kEndpointIfname, net);
  return out;
}

}  // namespace cpp::health
