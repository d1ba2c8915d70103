#include "config/agent_config.h"

#include <stdexcept>

namespace cpp::config {

AgentConfig make_agent_config(const ConfigDir& dir, const std::string& node_name) {
  AgentConfig c;
  c.raw = dir;
  c.node_name = node_name;
  auto get = [&](const char* key) -> std::optional<std::string> {
    auto it = dir.values.find(key);
    if (it == dir.values.end()) return std::nullopt;
    return it->second;
  };
  auto flag = [&](const char* key, bool& out) {
    if (auto v = get(key)) out = (*v == "true");
  };
  auto str = [&](const char* key, std::string& out) {
    if (auto v = get(key); v && !v->empty()) out = *v;
  };
  flag("enable-ipv4", c.enable_ipv4);
  flag("enable-ipv6", c.enable_ipv6);
  flag("debug", c.debug);
  str("cluster-name", c.cluster_name);
  str("routing-mode", c.routing_mode);
  str("bpf-root", c.bpf_root);
  str("state-dir", c.state_dir);
  str("socket-path", c.socket_path);
  str("local-store-dir", c.local_store_dir);
  str("write-cni-conf-when-ready", c.cni_conf_path);
  str("cni-log-file", c.cni_log_file);
  if (auto v = get("mtu")) c.mtu = std::stoi(*v);
  if (auto v = get("ipv4-range")) c.ipv4_range = IpPrefix::parse(*v);
  if (auto v = get("ipv6-range")) c.ipv6_range = IpPrefix::parse(*v);

  if (c.node_name.empty()) throw std::invalid_argument("node name is empty: pass --node-name or set K8S_NODE_NAME");
  if (c.node_name.find('/') != std::string::npos || c.cluster_name.find('/') != std::string::npos)
    throw std::invalid_argument("node and cluster names must not contain '/'");
  if (!c.enable_ipv4 && !c.enable_ipv6)
    throw std::invalid_argument("config keys 'enable-ipv4' and 'enable-ipv6' are both false: nothing to route");
  if (c.enable_ipv4 && !c.ipv4_range)
    throw std::invalid_argument("config key 'ipv4-range' is required when enable-ipv4 is true "
                                "(the node's IPv4 PodCIDR, e.g. 10.233.64.0/24)");
  if (c.enable_ipv6 && !c.ipv6_range)
    throw std::invalid_argument("config key 'ipv6-range' is required when enable-ipv6 is true "
                                "(the node's IPv6 PodCIDR, e.g. fd00:10:233:1::/64)");
  if (c.ipv4_range && c.ipv4_range->len > 30)
    throw std::invalid_argument("config key 'ipv4-range': " + c.ipv4_range->str() + " is too small for pods");
  if (c.ipv6_range && c.ipv6_range->len > 126)
    throw std::invalid_argument("config key 'ipv6-range': " + c.ipv6_range->str() + " is too small for pods");
  if (c.mtu != 0 && (c.mtu < 1280 || c.mtu > 65535))
    throw std::invalid_argument("config key 'mtu': " + std::to_string(c.mtu) + " is outside 1280..65535");
  return c;
}

}  // namespace cpp::config
