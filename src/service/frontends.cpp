// Services and EndpointSlices → per-node frontends, and the merge of all
// services' frontends with duplicate-frontend conflicts.
#include <algorithm>
#include <set>
#include <tuple>

#include "service/model.h"

namespace cpp::service {

namespace {

bool is_number(const std::string& s) {
  return !s.empty() && s.size() <= 5 && s.find_first_not_of("0123456789") == std::string::npos;
}

// The backend port of `sp` in this slice, 0 when the slice has none for it.
// The EndpointSlice controller names slice ports after the service port and
// writes the resolved number; slices written by hand may instead name the
// target port itself.
uint16_t slice_port(const ServicePort& sp, const EndpointSlice& es) {
  for (auto& p : es.ports)
    if (p.name == sp.name && p.protocol == sp.protocol) return p.port;
  if (!sp.target_port.empty() && !is_number(sp.target_port)) {
    for (auto& p : es.ports)
      if (p.name == sp.target_port && p.protocol == sp.protocol) return p.port;
    return 0;
  }
  if (es.ports.empty()) return is_number(sp.target_port) ? static_cast<uint16_t>(std::stoi(sp.target_port)) : sp.port;
  return 0;
}

struct Candidate {
  BackendSpec be;
  bool ready = false;
};

// All usable endpoints of one service port in one family.
std::vector<Candidate> candidates(const Service& svc, const ServicePort& sp, const std::vector<EndpointSlice>& slices,
                                  bool v6) {
  std::vector<Candidate> out;
  std::set<L4Addr> seen;
  for (auto& es : slices) {
    if (es.ns != svc.ns || es.service_name != svc.name) continue;
    if (es.address_type != (v6 ? "IPv6" : "IPv4")) continue;
    uint16_t port = slice_port(sp, es);
    if (port == 0) continue;
    for (auto& ep : es.endpoints) {
      bool usable = ep.ready || (ep.serving && ep.terminating);
      if (!usable || ep.addresses.empty()) continue;
      // Kubernetes: consumers use the first address of an endpoint.
      L4Addr a{ep.addresses.front(), port, sp.protocol};
      if (!seen.insert(a).second) continue;
      Candidate c;
      c.be.addr = a;
      c.be.node_name = ep.node_name;
      c.ready = ep.ready;  // ready wins even when terminating (publishNotReadyAddresses)
      out.push_back(std::move(c));
    }
  }
  return out;
}

// Ready endpoints are the active ones; with none ready, serving+terminating
// ones take their place (Kubernetes' terminating fallback); otherwise those
// follow as terminating, kept only for established connections.
std::vector<BackendSpec> select_backends(const std::vector<Candidate>& cands, bool local, const std::string& node) {
  std::vector<BackendSpec> active, terminating;
  for (auto& c : cands) {
    if (local && c.be.node_name != node) continue;
    (c.ready ? active : terminating).push_back(c.be);
  }
  if (active.empty()) {
    active.swap(terminating);
    for (auto& b : active) b.terminating = false;
  } else {
    for (auto& b : terminating) b.terminating = true;
  }
  std::sort(active.begin(), active.end());
  std::sort(terminating.begin(), terminating.end());
  active.insert(active.end(), terminating.begin(), terminating.end());
  return active;
}

}  // namespace

std::vector<Frontend> frontends_of(const Service& svc, const std::vector<EndpointSlice>& slices,
                                   const NodeView& node) {
  std::vector<Frontend> out;
  std::set<std::pair<L4Addr, Scope>> seen;
  auto serves = [&](const IpAddr& a) { return a.v6 ? node.enable_ipv6 : node.enable_ipv4; };
  bool external_type = svc.type == "NodePort" || svc.type == "LoadBalancer";

  for (auto& sp : svc.ports) {
    std::vector<Candidate> cands[2] = {candidates(svc, sp, slices, false), candidates(svc, sp, slices, true)};
    auto add = [&](const IpAddr& a, uint16_t port, FrontendType type, Scope scope) {
      if (!serves(a)) return;
      Frontend f;
      f.addr = L4Addr{a, port, sp.protocol};
      if (!seen.insert({f.addr, scope}).second) return;
      f.scope = scope;
      f.type = type;
      f.service = svc.key();
      f.port_name = sp.name;
      f.local = (scope == Scope::External ? svc.external_policy : svc.internal_policy) == TrafficPolicy::Local;
      f.backends = select_backends(cands[a.v6 ? 1 : 0], f.local, node.node_name);
      f.affinity = svc.affinity_client_ip;
      f.affinity_timeout_s = svc.affinity_client_ip ? svc.affinity_timeout_s : 0;
      out.push_back(std::move(f));
    };
    auto add_both = [&](const IpAddr& a, uint16_t port, FrontendType type) {
      add(a, port, type, Scope::Internal);
      add(a, port, type, Scope::External);
    };

    for (auto& ip : svc.cluster_ips) {
      add(ip, sp.port, FrontendType::ClusterIP, Scope::Internal);
      if (node.external_cluster_ip) add(ip, sp.port, FrontendType::ClusterIP, Scope::External);
    }
    if (!node.node_port) continue;
    if (external_type && sp.node_port != 0) {
      std::set<IpAddr> addrs(node.node_addresses.begin(), node.node_addresses.end());
      for (auto& a : addrs) {
        bool family_ok = svc.cluster_ips.empty() ||
                         std::any_of(svc.cluster_ips.begin(), svc.cluster_ips.end(),
                                     [&](const IpAddr& c) { return c.v6 == a.v6; });
        if (family_ok) add_both(a, sp.node_port, FrontendType::NodePort);
      }
      // The wildcard entry (address zero): in-cluster clients reaching any
      // node's address at the NodePort are translated at their own node
      // (bpf/lib/lb.h, lb_lookup_frontend).
      for (bool v6 : {false, true}) {
        bool family_ok = std::any_of(addrs.begin(), addrs.end(), [&](const IpAddr& a) { return a.v6 == v6; }) &&
                         (svc.cluster_ips.empty() ||
                          std::any_of(svc.cluster_ips.begin(), svc.cluster_ips.end(),
                                      [&](const IpAddr& c) { return c.v6 == v6; }));
        IpAddr any;
        any.v6 = v6;
        if (family_ok) add(any, sp.node_port, FrontendType::NodePort, Scope::Internal);
      }
    }
    if (node.external_ips)
      for (auto& ip : svc.external_ips) add_both(ip, sp.port, FrontendType::ExternalIP);
    if (svc.type == "LoadBalancer")
      for (auto& ip : svc.lb_ingress) add_both(ip, sp.port, FrontendType::LoadBalancer);
  }
  std::sort(out.begin(), out.end(), [](const Frontend& a, const Frontend& b) {
    return std::tie(a.addr, a.scope) < std::tie(b.addr, b.scope);
  });
  return out;
}

FrontendSet merge_frontends(const std::vector<ServiceFrontends>& services) {
  std::vector<const ServiceFrontends*> order;
  for (auto& s : services) order.push_back(&s);
  // Older first; an unknown creation time counts as newest.
  std::sort(order.begin(), order.end(), [](const ServiceFrontends* a, const ServiceFrontends* b) {
    bool ua = a->creation_timestamp.empty(), ub = b->creation_timestamp.empty();
    return std::tie(ua, a->creation_timestamp, a->service) < std::tie(ub, b->creation_timestamp, b->service);
  });
  FrontendSet out;
  std::map<std::pair<L4Addr, Scope>, std::string> owner;
  for (auto* s : order) {
    std::set<std::string> errs;
    for (auto& f : s->frontends) {
      auto [it, fresh] = owner.emplace(std::pair{f.addr, f.scope}, s->service);
      if (fresh || it->second == s->service) {
        if (fresh) out.accepted.push_back(f);
        continue;
      }
      errs.insert("frontend " + f.addr.str() + " already used by " + it->second);
    }
    if (!errs.empty()) out.errors[s->service].assign(errs.begin(), errs.end());
  }
  std::sort(out.accepted.begin(), out.accepted.end(), [](const Frontend& a, const Frontend& b) {
    return std::tie(a.addr, a.scope) < std::tie(b.addr, b.scope);
  });
  return out;
}

}  // namespace cpp::service
