#pragma once
#include <optional>
#include <string>

#include "common/ip.h"
#include "config/config_dir.h"

namespace cpp::config {

// The agent's typed view of its configuration. Defaults follow upstream
// Cilium where a key exists there.
struct AgentConfig {
  std::string node_name;
  std::string cluster_name = "default";
  bool enable_ipv4 = true;
  bool enable_ipv6 = false;
  std::optional<IpPrefix> ipv4_range;  // this node's IPv4 PodCIDR
  std::optional<IpPrefix> ipv6_range;  // this node's IPv6 PodCIDR
  std::string routing_mode = "tunnel";
  int mtu = 0;  // 0: derive from the underlay (minus VXLAN overhead in tunnel mode)
  std::string bpf_root = "/sys/fs/bpf";
  std::string state_dir = "/var/run/cilium/state";
  std::string socket_path = "/var/run/cilium/cilium.sock";
  std::string local_store_dir = "/var/run/cilium/store";
  std::string cni_conf_path;  // write-cni-conf-when-ready; empty = do not write
  std::string cni_log_file = "/var/run/cilium/cilium-cni.log";
  bool debug = false;

  ConfigDir raw;

  // <bpf-root>/ciliumpp/<cluster-name>/<node-name>: unique per node even
  // when several lab nodes share one bpffs.
  std::string pin_dir() const { return bpf_root + "/ciliumpp/" + cluster_name + "/" + node_name; }
};

// Builds the typed config; throws std::invalid_argument for values that are
// individually valid but make no sense together (e.g. IPv4 enabled, no range).
AgentConfig make_agent_config(const ConfigDir& dir, const std::string& node_name);

}  // namespace cpp::config
