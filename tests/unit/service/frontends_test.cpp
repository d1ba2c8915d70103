#include <gtest/gtest.h>

#include <algorithm>

#include "service/model.h"

using namespace cpp;
using namespace cpp::service;

namespace {

IpAddr ip(const char* s) { return *IpAddr::parse(s); }

Service make_svc(const std::string& type = "ClusterIP") {
  Service s;
  s.ns = "default";
  s.name = "web";
  s.type = type;
  s.cluster_ips = {ip("10.96.0.10"), ip("fd00::10")};
  ServicePort p;
  p.name = "http";
  p.port = 80;
  p.target_port = "http-alt";
  if (type != "ClusterIP") p.node_port = 30080;
  s.ports = {p};
  return s;
}

SliceEndpoint ep(const char* addr, const char* node, bool ready = true, bool serving = true, bool terminating = false) {
  SliceEndpoint e;
  e.addresses = {ip(addr)};
  e.node_name = node;
  e.ready = ready;
  e.serving = serving;
  e.terminating = terminating;
  return e;
}

EndpointSlice slice(const char* family, std::vector<SliceEndpoint> eps, std::vector<SlicePort> ports) {
  EndpointSlice es;
  es.ns = "default";
  es.name = std::string("web-") + family;
  es.service_name = "web";
  es.address_type = family;
  es.endpoints = std::move(eps);
  es.ports = std::move(ports);
  return es;
}

std::vector<EndpointSlice> dual_slices() {
  return {slice("IPv4", {ep("10.0.2.2", "n2"), ep("10.0.1.1", "n1")}, {{"http", Protocol::TCP, 8080}}),
          slice("IPv6", {ep("fd10::1", "n1")}, {{"http", Protocol::TCP, 8080}})};
}

NodeView node1() {
  NodeView n;
  n.node_name = "n1";
  n.node_addresses = {ip("192.168.0.1"), ip("fc00::1")};
  return n;
}

const Frontend* find(const std::vector<Frontend>& fs, const char* addr, uint16_t port, Scope scope) {
  for (auto& f : fs)
    if (f.addr.addr == ip(addr) && f.addr.port == port && f.scope == scope) return &f;
  return nullptr;
}

std::vector<std::string> backend_strs(const Frontend& f) {
  std::vector<std::string> out;
  for (auto& b : f.backends) out.push_back(b.addr.str() + (b.terminating ? " T" : ""));
  return out;
}

}  // namespace

TEST(Frontends, ClusterIPDualStack) {
  auto fs = frontends_of(make_svc(), dual_slices(), node1());
  ASSERT_EQ(fs.size(), 2u);  // INT only
  auto* v4 = find(fs, "10.96.0.10", 80, Scope::Internal);
  auto* v6 = find(fs, "fd00::10", 80, Scope::Internal);
  ASSERT_TRUE(v4 && v6);
  EXPECT_EQ(v4->type, FrontendType::ClusterIP);
  EXPECT_EQ(v4->service, "default/web");
  EXPECT_EQ(v4->port_name, "http");
  // Sorted, family-matched, port from the slice port named after the service port.
  EXPECT_EQ(backend_strs(*v4), (std::vector<std::string>{"10.0.1.1:8080/TCP", "10.0.2.2:8080/TCP"}));
  EXPECT_EQ(backend_strs(*v6), (std::vector<std::string>{"[fd10::1]:8080/TCP"}));
  EXPECT_EQ(v4->addr.str(), "10.96.0.10:80/TCP");
  EXPECT_EQ(v6->addr.str(), "[fd00::10]:80/TCP");
}

TEST(Frontends, FamilyNotServedIsSkipped) {
  auto n = node1();
  n.enable_ipv6 = false;
  auto fs = frontends_of(make_svc(), dual_slices(), n);
  ASSERT_EQ(fs.size(), 1u);
  EXPECT_FALSE(fs[0].addr.addr.v6);
}

TEST(Frontends, ExternalClusterIP) {
  auto n = node1();
  n.external_cluster_ip = true;
  auto fs = frontends_of(make_svc(), dual_slices(), n);
  EXPECT_EQ(fs.size(), 4u);
  EXPECT_TRUE(find(fs, "10.96.0.10", 80, Scope::External));
}

TEST(Frontends, NamedTargetPortOnHandWrittenSlice) {
  // A slice whose port is named after the target port, not the service port.
  std::vector<EndpointSlice> slices = {slice("IPv4", {ep("10.0.1.1", "n1")}, {{"http-alt", Protocol::TCP, 9090}})};
  auto fs = frontends_of(make_svc(), slices, node1());
  auto* v4 = find(fs, "10.96.0.10", 80, Scope::Internal);
  ASSERT_TRUE(v4);
  EXPECT_EQ(backend_strs(*v4), std::vector<std::string>{"10.0.1.1:9090/TCP"});
  // A slice port of another protocol does not count.
  slices[0].ports[0].protocol = Protocol::UDP;
  fs = frontends_of(make_svc(), slices, node1());
  EXPECT_TRUE(find(fs, "10.96.0.10", 80, Scope::Internal)->backends.empty());
}

TEST(Frontends, SlicesOfOtherServicesAreIgnored) {
  auto slices = dual_slices();
  slices[0].service_name = "other";
  slices[1].ns = "elsewhere";
  auto fs = frontends_of(make_svc(), slices, node1());
  for (auto& f : fs) EXPECT_TRUE(f.backends.empty());
}

TEST(Frontends, NodePortOnEveryNodeAddressBothScopes) {
  auto svc = make_svc("NodePort");
  auto fs = frontends_of(svc, dual_slices(), node1());
  for (const char* a : {"192.168.0.1", "fc00::1"})
    for (Scope s : {Scope::Internal, Scope::External}) {
      auto* f = find(fs, a, 30080, s);
      ASSERT_TRUE(f) << a;
      EXPECT_EQ(f->type, FrontendType::NodePort);
      EXPECT_EQ(f->addr.addr.v6 ? 1u : 2u, f->backends.size());
    }
  EXPECT_EQ(fs.size(), 8u);  // 2 ClusterIP + 4 NodePort + 2 wildcard NodePort (INT scope only)
  for (const char* a : {"0.0.0.0", "::"}) {
    auto* w = find(fs, a, 30080, Scope::Internal);
    ASSERT_TRUE(w) << a;
    EXPECT_EQ(w->type, FrontendType::NodePort);
    EXPECT_EQ(w->addr.addr.v6 ? 1u : 2u, w->backends.size());
    EXPECT_FALSE(find(fs, a, 30080, Scope::External)) << a;
  }
  // A single-stack IPv4 service gets no IPv6 NodePort.
  svc.cluster_ips = {ip("10.96.0.10")};
  fs = frontends_of(svc, dual_slices(), node1());
  EXPECT_FALSE(find(fs, "fc00::1", 30080, Scope::External));
  // Without kube-proxy replacement's NodePort, only ClusterIP remains.
  auto n = node1();
  n.node_port = false;
  EXPECT_EQ(frontends_of(make_svc("NodePort"), dual_slices(), n).size(), 2u);
}

TEST(Frontends, ExternalIPsAndLoadBalancer) {
  auto svc = make_svc("LoadBalancer");
  svc.external_ips = {ip("192.0.2.7")};
  svc.lb_ingress = {ip("198.51.100.1"), ip("2001:db8::1")};
  auto fs = frontends_of(svc, dual_slices(), node1());
  for (Scope s : {Scope::Internal, Scope::External}) {
    ASSERT_TRUE(find(fs, "192.0.2.7", 80, s));
    EXPECT_EQ(find(fs, "192.0.2.7", 80, s)->type, FrontendType::ExternalIP);
    ASSERT_TRUE(find(fs, "198.51.100.1", 80, s));
    EXPECT_EQ(find(fs, "198.51.100.1", 80, s)->type, FrontendType::LoadBalancer);
    EXPECT_EQ(find(fs, "2001:db8::1", 80, s)->backends.size(), 1u);
  }
  auto n = node1();
  n.external_ips = false;
  fs = frontends_of(svc, dual_slices(), n);
  EXPECT_FALSE(find(fs, "192.0.2.7", 80, Scope::External));
  EXPECT_TRUE(find(fs, "198.51.100.1", 80, Scope::External));
  // LB ingress of a service that is no longer a LoadBalancer is not served.
  svc.type = "NodePort";
  fs = frontends_of(svc, dual_slices(), node1());
  EXPECT_FALSE(find(fs, "198.51.100.1", 80, Scope::External));
}

TEST(Frontends, TrafficPolicyPerScope) {
  auto svc = make_svc("NodePort");
  svc.external_policy = TrafficPolicy::Local;
  auto fs = frontends_of(svc, dual_slices(), node1());
  auto* ext = find(fs, "192.168.0.1", 30080, Scope::External);
  auto* in = find(fs, "192.168.0.1", 30080, Scope::Internal);
  ASSERT_TRUE(ext && in);
  EXPECT_TRUE(ext->local);
  EXPECT_FALSE(in->local);
  EXPECT_EQ(backend_strs(*ext), std::vector<std::string>{"10.0.1.1:8080/TCP"});
  EXPECT_EQ(in->backends.size(), 2u);
  // On a node without local endpoints the Local scope has no backends.
  auto n3 = node1();
  n3.node_name = "n3";
  fs = frontends_of(svc, dual_slices(), n3);
  EXPECT_TRUE(find(fs, "192.168.0.1", 30080, Scope::External)->backends.empty());

  svc = make_svc();
  svc.internal_policy = TrafficPolicy::Local;
  fs = frontends_of(svc, dual_slices(), node1());
  auto* cip = find(fs, "10.96.0.10", 80, Scope::Internal);
  EXPECT_TRUE(cip->local);
  EXPECT_EQ(backend_strs(*cip), std::vector<std::string>{"10.0.1.1:8080/TCP"});
}

TEST(Frontends, TerminatingEndpoints) {
  std::vector<EndpointSlice> slices = {
      slice("IPv4",
            {ep("10.0.1.9", "n1", false, true, true),     // serving, terminating
             ep("10.0.1.3", "n1"),                         // ready
             ep("10.0.1.8", "n1", false, false, false),    // not ready (starting): never used
             ep("10.0.1.7", "n1", false, false, true),     // terminating, not serving: unused
             ep("10.0.1.2", "n1")},
            {{"http", Protocol::TCP, 8080}})};
  auto fs = frontends_of(make_svc(), slices, node1());
  auto* f = find(fs, "10.96.0.10", 80, Scope::Internal);
  EXPECT_EQ(backend_strs(*f),
            (std::vector<std::string>{"10.0.1.2:8080/TCP", "10.0.1.3:8080/TCP", "10.0.1.9:8080/TCP T"}));
  EXPECT_EQ(f->active_count(), 2u);

  // None ready: serving+terminating ones become the active backends.
  slices[0].endpoints = {ep("10.0.1.9", "n1", false, true, true), ep("10.0.1.8", "n1", false, false, false)};
  fs = frontends_of(make_svc(), slices, node1());
  f = find(fs, "10.96.0.10", 80, Scope::Internal);
  EXPECT_EQ(backend_strs(*f), std::vector<std::string>{"10.0.1.9:8080/TCP"});
  EXPECT_EQ(f->active_count(), 1u);
}

TEST(Frontends, AffinityAndDuplicateEndpoints) {
  auto svc = make_svc();
  svc.affinity_client_ip = true;
  svc.affinity_timeout_s = 30;
  auto slices = dual_slices();
  slices.push_back(slices[0]);  // the same endpoints in two slices count once
  slices.back().name = "web-dup";
  auto fs = frontends_of(svc, slices, node1());
  auto* f = find(fs, "10.96.0.10", 80, Scope::Internal);
  EXPECT_TRUE(f->affinity);
  EXPECT_EQ(f->affinity_timeout_s, 30u);
  EXPECT_EQ(f->backends.size(), 2u);
}

TEST(Frontends, Deterministic) {
  auto svc = make_svc("LoadBalancer");
  svc.lb_ingress = {ip("198.51.100.1")};
  auto slices = dual_slices();
  auto a = frontends_of(svc, slices, node1());
  std::reverse(slices.begin(), slices.end());
  std::reverse(slices[1].endpoints.begin(), slices[1].endpoints.end());
  EXPECT_EQ(a, frontends_of(svc, slices, node1()));
}

TEST(MergeFrontends, OlderServiceKeepsADuplicateFrontend) {
  auto a = make_svc();
  a.name = "svc-a";
  auto b = make_svc();
  b.name = "svc-b";
  b.cluster_ips = {ip("10.96.0.10"), ip("fd00::20")};  // same IPv4 frontend as svc-a
  NodeView n = node1();
  std::vector<ServiceFrontends> in = {
      {"default/svc-b", "2024-01-01T00:00:00Z", frontends_of(b, {}, n)},
      {"default/svc-a", "2024-01-02T00:00:00Z", frontends_of(a, {}, n)},
  };
  auto out = merge_frontends(in);
  // svc-b is older: it keeps 10.96.0.10:80; svc-a keeps its IPv6 frontend.
  ASSERT_EQ(out.accepted.size(), 3u);
  EXPECT_EQ(out.errors.size(), 1u);
  EXPECT_EQ(out.errors.at("default/svc-a"),
            std::vector<std::string>{"frontend 10.96.0.10:80/TCP already used by default/svc-b"});
  for (auto& f : out.accepted) {
    if (f.addr.addr == ip("10.96.0.10")) {
      EXPECT_EQ(f.service, "default/svc-b");
    }
  }
  EXPECT_TRUE(std::is_sorted(out.accepted.begin(), out.accepted.end(), [](auto& x, auto& y) {
    return std::tie(x.addr, x.scope) < std::tie(y.addr, y.scope);
  }));

  // Without creation times the key decides; a service without one loses to one with.
  in[0].creation_timestamp = in[1].creation_timestamp = "";
  EXPECT_EQ(merge_frontends(in).errors.count("default/svc-b"), 1u);
  in[0].creation_timestamp = "2030-01-01T00:00:00Z";
  EXPECT_EQ(merge_frontends(in).errors.count("default/svc-a"), 1u);
}

TEST(MergeFrontends, SameAddressOtherProtocolOrScopeIsNoConflict) {
  auto a = make_svc("NodePort");
  a.name = "a";
  auto b = make_svc();
  b.name = "b";
  b.ports[0].protocol = Protocol::UDP;
  auto out = merge_frontends({{"default/a", "", frontends_of(a, {}, node1())},
                              {"default/b", "", frontends_of(b, {}, node1())}});
  EXPECT_TRUE(out.errors.empty());
  EXPECT_EQ(out.accepted.size(), 10u);  // a: 2 ClusterIP + 4 NodePort + 2 wildcard; b: 2 ClusterIP
}
