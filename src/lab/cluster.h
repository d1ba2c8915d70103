#pragma once
// The lab's cluster control plane in etcd mode: etcd members and operators
// in namespaces of their own on the underlay, and "the world" namespace.
// Addresses on the underlay (192.0.2.0/24): etcd members .3-.5, operators
// .6-.8, nodes .11 and up, the world .250 (2001:db8::fa).
#include <map>
#include <memory>
#include <string>

#include "lab/state.h"
#include "store/store.h"

namespace cpp::lab {

inline constexpr int kMaxEtcdMembers = 3;
inline constexpr int kMaxOperators = 3;
inline constexpr const char* kWorldIpv4 = "192.0.2.250";
inline constexpr const char* kWorldIpv6 = "2001:db8::fa";
// The cluster pool the operator carves node PodCIDRs from.
inline constexpr const char* kClusterPoolIpv4 = "10.233.64.0/18";
inline constexpr const char* kClusterPoolIpv4Mask = "24";
inline constexpr const char* kClusterPoolIpv6 = "fd00:10:233::/48";
inline constexpr const char* kClusterPoolIpv6Mask = "64";
// Where the world routes LoadBalancer IPs (for CiliumLoadBalancerIPPools)
// and external IPs: documentation ranges, via node1.
inline constexpr const char* kLbRangeIpv4 = "203.0.113.0/24";
inline constexpr const char* kLbRangeIpv6 = "2001:db8:100::/64";
inline constexpr const char* kExternalRangeIpv4 = "198.51.100.0/24";
inline constexpr const char* kExternalRangeIpv6 = "2001:db8:200::/64";

// A namespace linked to the underlay bridge by a veth, with one address.
void attach_to_underlay(const LabState& lab, const std::string& netns, const std::string& underlay_ifname,
                        const std::string& ipv4, const std::string& ipv6);
// The record of a lab daemon `name` (its namespace, underlay address
// 192.0.2.<underlay_host>, directory).
DaemonState make_daemon(const LabState& lab, const std::string& name, int underlay_host, const std::string& log_name);
// Moves cilium-lab's main thread onto the underlay (once): etcd and the API
// server are reachable only from there.
void enter_underlay(const LabState& lab);

// Builds the namespaces of `members` etcd members, starts them as one
// cluster and waits until it has a leader. Records them in lab.etcd (saved by
// the caller). Throws with the member's log tail on failure.
void start_etcd_cluster(LabState& lab, int members, int timeout_s);
// Writes the operator config directory and starts `count` operators (on
// etcd, or on the API server in k8s mode).
void start_operators(LabState& lab, int count, const std::map<std::string, std::string>& extra_config);

// Whether nodes get their PodCIDRs from the operator's cluster-pool IPAM
// (etcd mode; k8s mode with an operator) rather than fixed ones.
bool pod_cidrs_from_operator(const LabState& lab);

// Agent configuration keys that make a node part of the etcd-mode cluster.
std::map<std::string, std::string> etcd_mode_agent_config(const LabState& lab);

// The world namespace on the underlay; routes to each node's PodCIDRs are
// added by route_world_to_nodes once the operator assigned them.
void build_world(const LabState& lab);
void route_world_to_nodes(const LabState& lab);

// The store every agent of the lab reads: the shared directory, etcd or the Kubernetes API.
std::unique_ptr<store::ResourceStore> open_lab_store(const LabState& lab);

// Stops operators (SIGTERM), the API server and etcd members (SIGKILL: a member whose peers
// are gone waits ~7 s on SIGTERM). Returns problems.
std::vector<std::string> stop_control_plane(const LabState& lab);

}  // namespace cpp::lab
