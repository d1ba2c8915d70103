// desired_state(): which policy this node runs and what it advertises.
#include "bgp/peering_policy.h"

#include <algorithm>
#include <sstream>
#include <stdexcept>

namespace cpp::bgp {

const char* to_string(PolicyState s) {
  switch (s) {
    case PolicyState::NotSelected: return "NotSelected";
    case PolicyState::Applied: return "Applied";
    case PolicyState::Conflict: return "Conflict";
    case PolicyState::Invalid: return "Invalid";
    case PolicyState::Failed: return "Failed";
  }
  return "?";
}

namespace {

struct RouterAnnotation {
  std::optional<uint32_t> router_id;
  std::optional<int> local_port;
};

// "router-id=10.0.0.2,local-port=1790"; other keys are upstream's business
// and ignored. Throws std::invalid_argument naming the annotation.
RouterAnnotation parse_router_annotation(const std::string& key, const std::string& value) {
  RouterAnnotation a;
  std::stringstream ss(value);
  for (std::string item; std::getline(ss, item, ',');) {
    auto eq = item.find('=');
    std::string k = item.substr(0, eq), v = eq == std::string::npos ? "" : item.substr(eq + 1);
    if (k == "router-id") {
      auto ip = IpAddr::parse(v);
      if (!ip || ip->v6 || *ip == IpAddr{})
        throw std::invalid_argument("node annotation " + key + ": router-id \"" + v +
                                    "\" is not a non-zero IPv4 address");
      a.router_id = uint32_t(ip->bytes[0]) << 24 | uint32_t(ip->bytes[1]) << 16 | uint32_t(ip->bytes[2]) << 8 |
                    ip->bytes[3];
    } else if (k == "local-port") {
      size_t used = 0;
      int port = -1;
      try {
        port = std::stoi(v, &used);
      } catch (const std::exception&) {
      }
      if (used != v.size() || port < 1 || port > 65535)
        throw std::invalid_argument("node annotation " + key + ": local-port \"" + v + "\" must be 1..65535");
      a.local_port = port;
    }
  }
  return a;
}

std::string router_id_str(uint32_t id) {
  return std::to_string(id >> 24) + "." + std::to_string(id >> 16 & 255) + "." + std::to_string(id >> 8 & 255) +
         "." + std::to_string(id & 255);
}

std::optional<uint32_t> default_router_id(const BgpNode& node) {
  for (auto& a : node.internal_ips)
    if (!a.v6 && a != IpAddr{})
      return uint32_t(a.bytes[0]) << 24 | uint32_t(a.bytes[1]) << 16 | uint32_t(a.bytes[2]) << 8 | a.bytes[3];
  return std::nullopt;
}

// The speaker has one router ID and one listener for all virtual routers;
// the per-router annotations must agree on them.
void speaker_identity(const PeeringPolicy& p, const BgpNode& node, SpeakerConfig& cfg) {
  std::optional<uint32_t> fallback = default_router_id(node);
  std::optional<std::pair<uint32_t, uint32_t>> id;     // (router id, asn it came from)
  std::optional<std::pair<int, uint32_t>> port;        // (port, asn)
  for (auto& vr : p.virtual_routers) {
    std::string key = kVirtualRouterAnnotationPrefix + std::to_string(vr.local_asn);
    RouterAnnotation a;
    if (auto it = node.annotations.find(key); it != node.annotations.end()) a = parse_router_annotation(key, it->second);
    uint32_t rid = 0;
    if (a.router_id) rid = *a.router_id;
    else if (fallback) rid = *fallback;
    else
      throw std::invalid_argument("virtual router " + std::to_string(vr.local_asn) + ": no router ID: node " +
                                  node.name + " has no IPv4 internal IP; set the node annotation " + key +
                                  "=\"router-id=<IPv4>\"");
    if (id && id->first != rid)
      throw std::invalid_argument("virtual routers " + std::to_string(id->second) + " and " +
                                  std::to_string(vr.local_asn) + " have different router IDs (" +
                                  router_id_str(id->first) + ", " + router_id_str(rid) +
                                  "); this speaker uses one for all");
    id = {rid, vr.local_asn};
    if (a.local_port) {
      if (port && port->first != *a.local_port)
        throw std::invalid_argument("virtual routers " + std::to_string(port->second) + " and " +
                                    std::to_string(vr.local_asn) + " have different local ports (" +
                                    std::to_string(port->first) + ", " + std::to_string(*a.local_port) +
                                    "); this speaker has one listener");
      port = {*a.local_port, vr.local_asn};
    }
  }
  cfg.router_id = id->first;
  cfg.listen_port = port ? port->first : -1;
}

IpPrefix host_route(const IpAddr& a) { return IpPrefix{a, a.bits()}; }

bool wants(const PolicyVirtualRouter& vr, ServiceAddressType t) {
  return std::find(vr.service_advertisements.begin(), vr.service_advertisements.end(), t) !=
         vr.service_advertisements.end();
}

void service_routes(const PolicyVirtualRouter& vr, const std::vector<service::Service>& services,
                    const std::set<std::string>& local_backends, std::set<IpPrefix>& out) {
  if (!vr.service_selector) return;
  for (auto& svc : services) {
    auto labels = svc.labels;
    labels["io.kubernetes.service.namespace"] = svc.ns;
    labels["io.kubernetes.service.name"] = svc.name;
    if (!vr.service_selector->matches(labels)) continue;
    bool local = local_backends.count(svc.key()) > 0;
    bool external_ok = svc.external_policy == service::TrafficPolicy::Cluster || local;
    bool internal_ok = svc.internal_policy == service::TrafficPolicy::Cluster || local;
    bool ours = !svc.load_balancer_class || *svc.load_balancer_class == "io.cilium/bgp-control-plane";
    if (wants(vr, ServiceAddressType::LoadBalancerIP) && svc.type == "LoadBalancer" && ours && external_ok)
      for (auto& a : svc.lb_ingress) out.insert(host_route(a));
    if (wants(vr, ServiceAddressType::ExternalIP) && external_ok)
      for (auto& a : svc.external_ips) out.insert(host_route(a));
    if (wants(vr, ServiceAddressType::ClusterIP) && internal_ok)
      for (auto& a : svc.cluster_ips) out.insert(host_route(a));
  }
}

VirtualRouter build_router(const PolicyVirtualRouter& vr, size_t index, const BgpNode& node,
                           const std::vector<service::Service>& services,
                           const std::set<std::string>& local_backends,
                           const std::map<std::string, std::string>& secrets, std::vector<std::string>& errors) {
  VirtualRouter r;
  r.local_asn = vr.local_asn;
  std::string vp = "spec.virtualRouters[" + std::to_string(index) + "]";
  for (size_t i = 0; i < vr.neighbors.size(); ++i) {
    const PolicyNeighbor& n = vr.neighbors[i];
    NeighborConfig c = n.config;
    if (n.auth_secret_ref) {
      auto it = secrets.find(*n.auth_secret_ref);
      if (it == secrets.end()) {
        errors.push_back(vp + ".neighbors[" + std::to_string(i) + "].authSecretRef: secret \"" +
                         *n.auth_secret_ref + "\" not found (or has no password); neighbor " +
                         c.peer_address.str() + " not configured");
        continue;
      }
      c.md5_password = it->second;
    }
    r.neighbors.push_back(std::move(c));
  }
  std::set<IpPrefix> prefixes;
  if (vr.export_pod_cidr) prefixes.insert(node.pod_cidrs.begin(), node.pod_cidrs.end());
  service_routes(vr, services, local_backends, prefixes);
  for (auto& p : prefixes) r.routes.push_back(Route{p, std::nullopt});
  return r;
}

}  // namespace

DesiredState desired_state(const std::vector<ParsedPolicy>& policies, const BgpNode& node,
                           const std::vector<service::Service>& services,
                           const std::set<std::string>& local_backends,
                           const std::map<std::string, std::string>& secrets) {
  DesiredState out;
  std::vector<size_t> selected;
  for (size_t i = 0; i < policies.size(); ++i) {
    const ParsedPolicy& pp = policies[i];
    PolicyStatus st{pp.name, PolicyState::NotSelected, {}};
    if (!pp.policy) {
      st.state = PolicyState::Invalid;
      st.errors.push_back(pp.error);
    } else if (!pp.policy->node_selector || pp.policy->node_selector->matches(node.labels)) {
      selected.push_back(i);
    }
    out.policies.push_back(std::move(st));
  }

  if (selected.size() > 1) {
    std::string names;
    for (size_t i : selected) names += (names.empty() ? "" : ", ") + policies[i].name;
    for (size_t i : selected) {
      out.policies[i].state = PolicyState::Conflict;
      out.policies[i].errors.push_back("node " + node.name + " is selected by several policies (" + names +
                                       "); only one may apply, so none does");
    }
    return out;
  }
  if (selected.empty()) return out;

  const PeeringPolicy& p = *policies[selected[0]].policy;
  PolicyStatus& st = out.policies[selected[0]];
  SpeakerConfig cfg;
  try {
    speaker_identity(p, node, cfg);
  } catch (const std::invalid_argument& e) {
    st.state = PolicyState::Failed;
    st.errors.push_back(e.what());
    return out;
  }
  for (size_t i = 0; i < p.virtual_routers.size(); ++i)
    cfg.routers.push_back(build_router(p.virtual_routers[i], i, node, services, local_backends, secrets, st.errors));
  st.state = PolicyState::Applied;
  out.config = std::move(cfg);
  return out;
}

std::set<std::string> services_with_local_backends(const std::vector<service::EndpointSlice>& slices,
                                                   const std::string& node_name) {
  std::set<std::string> out;
  for (auto& s : slices)
    for (auto& e : s.endpoints)
      if (e.ready && !e.terminating && e.node_name == node_name && !e.addresses.empty())
        out.insert(s.ns + "/" + s.service_name);
  return out;
}

}  // namespace cpp::bgp
