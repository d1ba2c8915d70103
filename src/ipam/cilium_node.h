#pragma once
// The CiliumNode object (cilium.io/v2, cluster-scoped, name = node name),
// shaped as upstream's: the agent owns spec.addresses, spec.health and its
// boot id; the operator owns spec.ipam.podCIDRs and
// status.ipam.operator-status. Each side merges its fields into the stored
// object and leaves the other side's alone. Pure functions.
#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

#include "common/ip.h"

namespace cpp::ipam {

// What the agent publishes about its node.
struct AgentNodeFields {
  std::string name;
  std::optional<IpAddr> internal_ipv4, internal_ipv6;  // the node's underlay addresses
  std::optional<IpAddr> router_ipv4, router_ipv6;      // CiliumInternalIP (cilium_host)
  std::optional<IpAddr> health_ipv4, health_ipv6;
  std::string boot_id;  // spec.bootid (/proc/sys/kernel/random/boot_id); "" = leave as is
  // PodCIDRs the agent already uses (from its IPAM state); written only when
  // the stored object carries none, so the operator can adopt them...
  std::vector<IpPrefix> pod_cidrs;
  // ...unless they are configured (ipv4-range/ipv6-range): then they are the
  // truth and always written.
  bool pod_cidrs_configured = false;
};

// A fresh CiliumNode with every upstream section present and empty.
nlohmann::json new_cilium_node(const std::string& name);

// The object to write so the stored one (nullptr: none yet) carries the
// agent's fields; nullopt when it already does.
std::optional<nlohmann::json> merge_agent_fields(const nlohmann::json* existing, const AgentNodeFields& f);

// spec.ipam.podCIDRs. Entries that do not parse are returned in `bad`.
std::vector<IpPrefix> pod_cidrs_of(const nlohmann::json& node, std::vector<std::string>* bad = nullptr);

// Operator side: podCIDRs set (appending families the node lacks, keeping
// existing entries) and operator-status error cleared / set.
nlohmann::json with_pod_cidrs(nlohmann::json node, const std::vector<IpPrefix>& cidrs);
nlohmann::json with_operator_error(nlohmann::json node, const std::string& error);
std::string operator_error_of(const nlohmann::json& node);

// Addresses of a given type ("InternalIP", "CiliumInternalIP").
std::vector<IpAddr> node_addresses(const nlohmann::json& node, const std::string& type);

}  // namespace cpp::ipam
