#include "agent/overlay_state.h"

#include <ciliumpp/abi.h>

namespace cpp::agent {
namespace {

using nlohmann::json;

IpPrefix host_prefix(const IpAddr& a) { return IpPrefix{a, a.bits()}; }

std::string node_label(const json& node) {
  return "CiliumNode " + node["metadata"].value("name", std::string("?"));
}

std::string cep_label(const json& cep) {
  const auto& m = cep["metadata"];
  return "CiliumEndpoint " + m.value("namespace", std::string("default")) + "/" + m.value("name", std::string("?"));
}

// obj[a][b]... or null, without throwing on a missing or mistyped level.
const json& at(const json& obj, std::initializer_list<const char*> path) {
  static const json null;
  const json* j = &obj;
  for (const char* k : path) {
    if (!j->is_object() || !j->contains(k)) return null;
    j = &(*j)[k];
  }
  return *j;
}

bool overlaps(const IpPrefix& a, const IpPrefix& b) {
  return a.addr.v6 == b.addr.v6 && (a.contains(b.addr) || b.contains(a.addr));
}

void add_node(const OverlaySelf& self, const json& node, OverlayState& out) {
  const std::string what = node_label(node);
  std::optional<IpAddr> tunnel;
  std::vector<std::pair<std::string, IpAddr>> addrs;
  const json& list = at(node, {"spec", "addresses"});
  if (!list.is_null() && !list.is_array()) {
    out.warnings.push_back(what + ": spec.addresses is not a list");
    return;
  }
  for (size_t i = 0; list.is_array() && i < list.size(); ++i) {
    const json& a = list[i];
    auto ip = a.is_object() && a.value("ip", json()).is_string() ? IpAddr::parse(a["ip"].get<std::string>()) : std::nullopt;
    if (!ip) {
      out.warnings.push_back(what + ": spec.addresses[" + std::to_string(i) + "].ip is not an IP address");
      continue;
    }
    std::string type = a.value("type", json()).is_string() ? a["type"].get<std::string>() : "";
    addrs.emplace_back(type, *ip);
    if (type == "InternalIP" && !ip->v6 && !tunnel) tunnel = *ip;
  }
  if (tunnel && self.node_ips.count(*tunnel)) {
    out.warnings.push_back(what + ": InternalIP " + tunnel->str() + " is this node's own address; skipped");
    return;
  }
  for (const auto& [type, ip] : addrs) {
    IpcacheClaim c{CPP_ID_REMOTE_NODE, std::nullopt};
    if (type == "CiliumInternalIP") c.tunnel = tunnel;
    out.ipcache[{host_prefix(ip), IpcacheSource::RemoteNode}] = c;
  }

  // The node's health endpoint (lxc_health) sits in its PodCIDR, so behind
  // the tunnel, with the reserved health identity.
  for (const char* fam : {"ipv4", "ipv6"}) {
    const json& h = at(node, {"spec", "health", fam});
    if (h.is_null() || (h.is_string() && h.get<std::string>().empty())) continue;
    auto ip = h.is_string() ? IpAddr::parse(h.get<std::string>()) : std::nullopt;
    if (!ip) {
      out.warnings.push_back(what + ": spec.health." + fam + " is not an IP address");
      continue;
    }
    if (tunnel) out.ipcache[{host_prefix(*ip), IpcacheSource::RemoteEndpoint}] = IpcacheClaim{CPP_ID_HEALTH, tunnel};
  }

  const json& cidrs = at(node, {"spec", "ipam", "podCIDRs"});
  if (cidrs.is_null()) return;
  if (!cidrs.is_array()) {
    out.warnings.push_back(what + ": spec.ipam.podCIDRs is not a list");
    return;
  }
  if (!tunnel && !cidrs.empty()) {
    out.warnings.push_back(what + ": no IPv4 InternalIP, its PodCIDRs are unreachable through the tunnel");
    return;
  }
  for (size_t i = 0; i < cidrs.size(); ++i) {
    auto p = cidrs[i].is_string() ? IpPrefix::parse(cidrs[i].get<std::string>()) : std::nullopt;
    if (!p) {
      out.warnings.push_back(what + ": spec.ipam.podCIDRs[" + std::to_string(i) + "] is not a CIDR");
      continue;
    }
    bool clash = false;
    for (const auto& own : self.pod_cidrs) clash = clash || overlaps(own, *p);
    if (clash) {
      out.warnings.push_back(what + ": PodCIDR " + p->str() + " overlaps this node's own; skipped");
      continue;
    }
    out.ipcache[{*p, IpcacheSource::TunnelRoute}] = IpcacheClaim{CPP_ID_WORLD, tunnel};
    out.routes.insert(*p);
  }
}

void add_endpoint(const OverlaySelf& self, const json& cep, OverlayState& out) {
  const json& node = at(cep, {"status", "networking", "node"});
  if (!node.is_string()) return;  // not scheduled anywhere yet
  auto node_ip = IpAddr::parse(node.get<std::string>());
  if (!node_ip) {
    out.warnings.push_back(cep_label(cep) + ": status.networking.node is not an IP address");
    return;
  }
  if (self.node_ips.count(*node_ip)) return;  // ours: the policy subsystem has it
  const json& id = at(cep, {"status", "identity", "id"});
  if (!id.is_number_unsigned() || id.get<uint64_t>() == 0 || id.get<uint64_t>() >= CPP_ID_LOCAL_SCOPE) {
    out.warnings.push_back(cep_label(cep) + ": status.identity.id is not a cluster identity");
    return;
  }
  if (node_ip->v6) {
    out.warnings.push_back(cep_label(cep) + ": node " + node_ip->str() + " is IPv6, the tunnel needs IPv4");
    return;
  }
  const json& addressing = at(cep, {"status", "networking", "addressing"});
  for (size_t i = 0; addressing.is_array() && i < addressing.size(); ++i) {
    for (const char* fam : {"ipv4", "ipv6"}) {
      const json& a = at(addressing[i], {fam});
      if (a.is_null()) continue;
      auto ip = a.is_string() ? IpAddr::parse(a.get<std::string>()) : std::nullopt;
      if (!ip || ip->v6 != (fam[3] == '6')) {
        out.warnings.push_back(cep_label(cep) + ": status.networking.addressing[" + std::to_string(i) + "]." + fam +
                               " is not an " + (fam[3] == '6' ? "IPv6" : "IPv4") + " address");
        continue;
      }
      out.ipcache[{host_prefix(*ip), IpcacheSource::RemoteEndpoint}] =
          IpcacheClaim{static_cast<uint32_t>(id.get<uint64_t>()), node_ip};
    }
  }
}

}  // namespace

OverlayState compute_overlay_state(const OverlaySelf& self, const std::vector<json>& nodes,
                                   const std::vector<json>& endpoints) {
  OverlayState out;
  for (const auto& n : nodes) {
    if (!n.is_object() || at(n, {"metadata", "name"}) == self.node_name) continue;
    add_node(self, n, out);
  }
  // Two endpoints claiming one address (a pod recreated elsewhere before
  // its old object is gone): the later one in store order wins until the
  // other is deleted.
  for (const auto& e : endpoints)
    if (e.is_object()) add_endpoint(self, e, out);
  return out;
}

}  // namespace cpp::agent
