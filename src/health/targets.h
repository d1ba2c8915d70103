#pragma once
// What to probe: every node of the cluster, from its CiliumNode object
// (spec.addresses of type InternalIP, spec.health.ipv4/ipv6), plus the local
// node from the agent's own view.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/ip.h"

namespace cpp::health {

struct NodeTarget {
  std::string name;
  bool local = false;
  std::vector<IpAddr> host;      // primary (IPv4 when there is one) first
  std::vector<IpAddr> endpoint;  // the node's health endpoint, primary first
};

// IPv4 before IPv6, otherwise in the given order, duplicates dropped:
// upstream picks the IPv4 address as a node's primary address.
std::vector<IpAddr> primary_first(const std::vector<IpAddr>& addrs);

// Throws std::invalid_argument naming the object and field.
NodeTarget target_from_cilium_node(const nlohmann::json& obj);

// The local node first, then every other CiliumNode sorted by name. A
// CiliumNode of the local node is skipped (the agent's own view wins);
// objects that fail to parse are skipped and described in `warnings`.
std::vector<NodeTarget> cluster_targets(const NodeTarget& local, const std::vector<nlohmann::json>& cilium_nodes,
                                        std::vector<std::string>* warnings = nullptr);

}  // namespace cpp::health
