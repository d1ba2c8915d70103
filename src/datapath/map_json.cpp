#include "datapath/map_json.h"

#include <cstring>

#include "common/mac.h"

namespace cpp::datapath {

nlohmann::json endpoint_to_json(const IpAddr& addr, const cpp_endpoint_info& info) {
  return {
      {"address", addr.str()},
      {"id", info.lxc_id},
      {"ifindex", info.ifindex},
      {"flags", info.flags},
      {"host", (info.flags & CPP_EP_F_HOST) != 0},
      {"mac", mac_str(info.mac)},
      {"node_mac", mac_str(info.node_mac)},
      {"sec_id", info.sec_id},
  };
}

nlohmann::json endpoint_map_to_json(
    const std::vector<std::pair<IpAddr, cpp_endpoint_info>>& entries) {
  auto out = nlohmann::json::array();
  for (const auto& [addr, info] : entries) out.push_back(endpoint_to_json(addr, info));
  return out;
}

nlohmann::json ipcache_entry_to_json(const IpPrefix& prefix, const cpp_ipcache_value& value) {
  IpAddr tunnel;  // IPv4, network order in the map
  std::memcpy(tunnel.bytes.data(), &value.tunnel_endpoint, 4);
  return {
      {"prefix", prefix.str()},
      {"identity", value.sec_identity},
      {"tunnel_endpoint", tunnel.str()},
      {"flags", value.flags},
      {"skip_tunnel", (value.flags & CPP_IPCACHE_F_SKIP_TUNNEL) != 0},
  };
}

nlohmann::json ipcache_to_json(const std::vector<std::pair<IpPrefix, cpp_ipcache_value>>& entries) {
  auto out = nlohmann::json::array();
  for (const auto& [prefix, value] : entries) out.push_back(ipcache_entry_to_json(prefix, value));
  return out;
}

std::string proto_name(uint8_t proto) {
  switch (proto) {
    case 0: return "ANY";
    case 1: return "ICMP";
    case 6: return "TCP";
    case 17: return "UDP";
    case 58: return "ICMPv6";
    case 132: return "SCTP";
    default: return std::to_string(proto);
  }
}

std::string reserved_identity_label(uint32_t identity) {
  switch (identity) {
    case CPP_ID_UNKNOWN: return "reserved:unknown";
    case CPP_ID_HOST: return "reserved:host";
    case CPP_ID_WORLD: return "reserved:world";
    case CPP_ID_UNMANAGED: return "reserved:unmanaged";
    case CPP_ID_HEALTH: return "reserved:health";
    case CPP_ID_INIT: return "reserved:init";
    case CPP_ID_REMOTE_NODE: return "reserved:remote-node";
    case CPP_ID_KUBE_APISERVER: return "reserved:kube-apiserver";
    case CPP_ID_INGRESS: return "reserved:ingress";
    case CPP_ID_WORLD_IPV4: return "reserved:world-ipv4";
    case CPP_ID_WORLD_IPV6: return "reserved:world-ipv6";
    default: return "";
  }
}

nlohmann::json policy_entry_to_json(const PolicyMapEntry& e, const IdentityLabels& labels) {
  auto lbls = nlohmann::json::array();
  if (auto r = reserved_identity_label(e.key.identity); !r.empty()) {
    lbls.push_back(r);
  } else if (labels) {
    for (const auto& l : labels(e.key.identity)) lbls.push_back(l);
  }
  std::string port_proto = proto_name(e.key.protocol);
  if (e.key.dport != 0) port_proto = std::to_string(e.key.dport) + "/" + port_proto;
  nlohmann::json proxy = "NONE";
  if (e.entry.proxy_port) proxy = e.entry.proxy_port;
  return {
      {"policy", e.entry.deny ? "Deny" : "Allow"},
      {"deny", e.entry.deny},
      {"direction", e.key.direction == CPP_DIR_EGRESS ? "Egress" : "Ingress"},
      {"labels", lbls},
      {"identity", e.key.identity},
      {"port_proto", port_proto},
      {"proxy_port", proxy},
      {"bytes", e.bytes},
      {"packets", e.packets},
      {"prefix", e.key.dport != 0 ? 16 : 0},
      {"cookie", e.entry.cookie},
      {"ep_id", e.key.ep_id},
  };
}

nlohmann::json policy_entries_to_json(const std::vector<PolicyMapEntry>& entries,
                                      const IdentityLabels& labels) {
  auto out = nlohmann::json::array();
  for (const auto& e : entries) out.push_back(policy_entry_to_json(e, labels));
  return out;
}

namespace {

std::string endpoint_str(const IpAddr& a, uint16_t port) {
  return a.v6 ? "[" + a.str() + "]:" + std::to_string(port) : a.str() + ":" + std::to_string(port);
}

std::vector<std::string> ct_flag_names(uint32_t flags) {
  std::vector<std::string> out;
  if (flags & CPP_CT_F_SYN_SEEN) out.emplace_back("SynSeen");
  if (flags & CPP_CT_F_ESTABLISHED) out.emplace_back("Established");
  if (flags & CPP_CT_F_FIN_TX) out.emplace_back("FinTx");
  if (flags & CPP_CT_F_FIN_RX) out.emplace_back("FinRx");
  if (flags & CPP_CT_F_RST) out.emplace_back("Rst");
  return out;
}

int64_t expires_in_s(const CtEntry& e, uint64_t now_ns) {
  return (static_cast<int64_t>(e.expires_ns) - static_cast<int64_t>(now_ns)) / 1000000000;
}

}  // namespace

nlohmann::json ct_entry_to_json(const CtEntry& e, uint64_t now_ns) {
  return {
      {"proto", proto_name(e.nexthdr)},
      {"direction", e.dir == CPP_CT_EGRESS ? "OUT" : "IN"},
      {"source", endpoint_str(e.saddr, e.sport)},
      {"destination", endpoint_str(e.daddr, e.dport)},
      {"expires_in_s", expires_in_s(e, now_ns)},
      {"flags", ct_flag_names(e.flags)},
      {"packets", e.packets},
      {"bytes", e.bytes},
      {"source_security_id", e.src_identity},
      {"ep_id", e.ep_id},
      {"cookie", e.cookie},
  };
}

nlohmann::json ct_to_json(const std::vector<CtEntry>& entries, uint64_t now_ns) {
  auto out = nlohmann::json::array();
  for (const auto& e : entries) out.push_back(ct_entry_to_json(e, now_ns));
  return out;
}

std::string ct_entry_to_text(const CtEntry& e, uint64_t now_ns) {
  std::string flags = "[ ";
  for (const auto& f : ct_flag_names(e.flags)) flags += f + " ";
  flags += "]";
  return proto_name(e.nexthdr) + (e.dir == CPP_CT_EGRESS ? " OUT " : " IN ") +
         endpoint_str(e.saddr, e.sport) + " -> " + endpoint_str(e.daddr, e.dport) +
         " expires=" + std::to_string(expires_in_s(e, now_ns)) +
         " Packets=" + std::to_string(e.packets) + " Bytes=" + std::to_string(e.bytes) +
         " Flags=" + flags + " SourceSecurityID=" + std::to_string(e.src_identity) +
         " EndpointID=" + std::to_string(e.ep_id);
}

}  // namespace cpp::datapath
