#pragma once
// A small cluster for engine tests: namespaces x, y, z with pods a, b, c
// (the Kubernetes network-policy e2e model), kube-system/coredns, and a few
// CIDR identities, all as local endpoints of one node.
#include <gtest/gtest.h>

#include "identity/identity.h"
#include "test_util.h"

namespace policy_test {

using namespace cpp::policy;

inline constexpr uint32_t kC8 = (1u << 24) + 1;   // 10.0.0.0/8
inline constexpr uint32_t kC12 = (1u << 24) + 2;  // 10.96.0.0/12
inline constexpr uint32_t kC24 = (1u << 24) + 3;  // 192.0.2.0/24
inline constexpr uint32_t kC32 = (1u << 24) + 4;  // 20.1.1.1/32
inline constexpr uint32_t kC6 = (1u << 24) + 5;   // 2001:db8::/32
inline constexpr uint32_t kDns = 265;              // kube-system/coredns

inline const char* kNamespaces[] = {"x", "y", "z"};
inline const char* kPods[] = {"a", "b", "c"};
inline const char* kApps[] = {"web", "client", "db"};

// Identity of ns/pod: x/a 256 ... z/c 264. Endpoint id: x/a 1 ... z/c 9; coredns 10.
inline uint32_t id_of(const std::string& ns, const std::string& p) {
  return 256 + static_cast<uint32_t>((ns[0] - 'x') * 3 + (p[0] - 'a'));
}
inline uint16_t ep_of(const std::string& ns, const std::string& p) {
  return static_cast<uint16_t>(1 + (ns[0] - 'x') * 3 + (p[0] - 'a'));
}

inline LabelSet model_pod_labels(const std::string& ns, int p) {
  LabelSet s = pod(ns, {});
  s.add(Label{"k8s", "pod", kPods[p]});
  s.add(Label{"k8s", "app", kApps[p]});
  s.add(Label{"k8s", "io.cilium.k8s.namespace.labels.ns", ns});
  return s;
}

inline NamedPorts model_ports(int p) {
  NamedPorts n = {{"serve-80-tcp", 80, kProtoTCP},
                  {"serve-80-udp", 80, kProtoUDP},
                  {"serve-81-tcp", 81, kProtoTCP},
                  {"serve-81-udp", 81, kProtoUDP}};
  if (p == 2) n.push_back({"db", 5432, kProtoTCP});
  return n;
}

inline LabelSet cidr_ids(const char* prefix) {
  return cpp::labels::cidr_identity_labels(*cpp::IpPrefix::parse(prefix));
}

inline void populate(PolicyEngine& e, bool endpoints = true) {
  for (int n = 0; n < 3; ++n)
    for (int p = 0; p < 3; ++p) {
      uint32_t id = id_of(kNamespaces[n], kPods[p]);
      e.add_identity(id, model_pod_labels(kNamespaces[n], p));
      if (endpoints)
        e.upsert_endpoint(ep_of(kNamespaces[n], kPods[p]), id, model_pod_labels(kNamespaces[n], p), model_ports(p));
    }
  LabelSet dns = pod("kube-system", {"k8s-app=kube-dns"}, "coredns");
  e.add_identity(kDns, dns);
  if (endpoints) e.upsert_endpoint(10, kDns, dns, {{"dns", 53, kProtoUDP}, {"dns-tcp", 53, kProtoTCP}});
  e.add_identity(kC8, cidr_ids("10.0.0.0/8"));
  e.add_identity(kC12, cidr_ids("10.96.0.0/12"));
  e.add_identity(kC24, cidr_ids("192.0.2.0/24"));
  e.add_identity(kC32, cidr_ids("20.1.1.1/32"));
  e.add_identity(kC6, cidr_ids("2001:db8::/32"));
}

inline void apply_all(PolicyEngine& e, const std::string& docs) {
  for (const auto& d : yamls(docs)) e.apply(d);
}

// The datapath's lookup (abi.h): six keys, any deny wins, otherwise any match allows.
inline bool map_allows(const EndpointPolicy& p, uint8_t dir, uint32_t peer, uint8_t proto, uint16_t dport) {
  bool enforced = dir == CPP_DIR_INGRESS ? p.enforce_ingress : p.enforce_egress;
  if (!enforced) return true;
  const MapKey keys[] = {{peer, dir, proto, dport}, {peer, dir, proto, 0}, {peer, dir, 0, 0},
                         {0, dir, proto, dport},    {0, dir, proto, 0},    {0, dir, 0, 0}};
  bool match = false;
  for (const auto& k : keys) {
    auto it = p.entries.find(k);
    if (it == p.entries.end()) continue;
    if (it->second.deny) return false;
    match = true;
  }
  return match;
}

// A flow between two local endpoints: the client's egress and the server's ingress.
inline bool flow(const PolicyEngine& e, uint16_t src_ep, uint16_t dst_ep, uint8_t proto, uint16_t port) {
  auto s = e.endpoint_policy(src_ep);
  auto d = e.endpoint_policy(dst_ep);
  return map_allows(*s, CPP_DIR_EGRESS, d->identity, proto, port) &&
         map_allows(*d, CPP_DIR_INGRESS, s->identity, proto, port);
}

}  // namespace policy_test
