#include <gtest/gtest.h>

#include "test_util.h"

using namespace cpp;
using namespace cpp::bgp;
using namespace bgp_test;

namespace {

ParsedPolicy policy(const std::string& name, const std::string& spec) {
  auto r = parse_policy_object(yaml("apiVersion: cilium.io/v2alpha1\nkind: CiliumBGPPeeringPolicy\n"
                                    "metadata: {name: " + name + "}\nspec:\n" + spec));
  EXPECT_TRUE(r.policy) << r.error;
  return r;
}

const char* kRack0 = R"(
  nodeSelector: {matchLabels: {rack: rack0}}
  virtualRouters:
  - localASN: 64512
    exportPodCIDR: true
    neighbors:
    - {peerAddress: 10.0.0.1/32, peerASN: 64513}
)";

BgpNode node() {
  BgpNode n;
  n.name = "node-a";
  n.labels = {{"rack", "rack0"}, {"kubernetes.io/hostname", "node-a"}};
  n.pod_cidrs = {pfx("10.244.1.0/24"), pfx("fd00:244:1::/64")};
  n.internal_ips = {ip("fd00:1::5"), ip("192.168.1.5")};
  return n;
}

service::Service svc(const std::string& name, const std::string& type) {
  service::Service s;
  s.ns = "default";
  s.name = name;
  s.type = type;
  return s;
}

std::vector<IpPrefix> prefixes(const VirtualRouter& r) {
  std::vector<IpPrefix> out;
  for (auto& rt : r.routes) {
    EXPECT_FALSE(rt.next_hop);
    out.push_back(rt.prefix);
  }
  return out;
}

DesiredState run(const std::vector<ParsedPolicy>& ps, const BgpNode& n = node(),
                 const std::vector<service::Service>& svcs = {}, const std::set<std::string>& local = {},
                 const std::map<std::string, std::string>& secrets = {}) {
  return desired_state(ps, n, svcs, local, secrets);
}

}  // namespace

TEST(DesiredState, PodCidrExportIpv4AndIpv6) {
  auto d = run({policy("rack0", kRack0)});
  ASSERT_EQ(d.policies.size(), 1u);
  EXPECT_EQ(d.policies[0].state, PolicyState::Applied);
  EXPECT_TRUE(d.policies[0].errors.empty());
  EXPECT_EQ(d.config.router_id, 0xC0A80105u);  // the first IPv4 internal IP, 192.168.1.5
  EXPECT_EQ(d.config.listen_port, -1);
  ASSERT_EQ(d.config.routers.size(), 1u);
  auto& r = d.config.routers[0];
  EXPECT_EQ(r.local_asn, 64512u);
  ASSERT_EQ(r.neighbors.size(), 1u);
  EXPECT_EQ(r.neighbors[0].peer_address, ip("10.0.0.1"));
  EXPECT_EQ(r.neighbors[0].peer_asn, 64513u);
  EXPECT_EQ(prefixes(r), (std::vector<IpPrefix>{pfx("10.244.1.0/24"), pfx("fd00:244:1::/64")}));
}

TEST(DesiredState, NoPodCidrsWithoutExport) {
  auto d = run({policy("p", R"(
  virtualRouters:
  - localASN: 64512
    neighbors: [{peerAddress: 10.0.0.1/32, peerASN: 64513}]
)")});
  EXPECT_EQ(d.policies[0].state, PolicyState::Applied);
  EXPECT_TRUE(d.config.routers.at(0).routes.empty());
}

TEST(DesiredState, NodeSelection) {
  BgpNode other = node();
  other.labels["rack"] = "rack1";
  auto d = run({policy("rack0", kRack0)}, other);
  EXPECT_EQ(d.policies.at(0).state, PolicyState::NotSelected);
  EXPECT_TRUE(d.config.routers.empty());
  EXPECT_EQ(d.config.router_id, 0u);

  // No nodeSelector: every node.
  auto all = run({policy("all", R"(
  virtualRouters:
  - {localASN: 64512, neighbors: []}
)")}, other);
  EXPECT_EQ(all.policies.at(0).state, PolicyState::Applied);
  ASSERT_EQ(all.config.routers.size(), 1u);
  EXPECT_TRUE(all.config.routers[0].neighbors.empty());

  // matchExpressions, as Kubernetes evaluates them.
  auto expr = run({policy("expr", R"(
  nodeSelector:
    matchExpressions: [{key: rack, operator: NotIn, values: [rack1]}]
  virtualRouters:
  - {localASN: 64512, neighbors: []}
)")}, other);
  EXPECT_EQ(expr.policies.at(0).state, PolicyState::NotSelected);
}

TEST(DesiredState, SeveralPoliciesSelectingTheNodeApplyNone) {
  auto d = run({policy("rack0", kRack0), policy("not-me", R"(
  nodeSelector: {matchLabels: {rack: rack9}}
  virtualRouters: [{localASN: 64600, neighbors: []}]
)"),
                policy("everyone", "  virtualRouters: [{localASN: 64700, neighbors: []}]\n")});
  ASSERT_EQ(d.policies.size(), 3u);
  EXPECT_EQ(d.policies[0].state, PolicyState::Conflict);
  EXPECT_EQ(d.policies[1].state, PolicyState::NotSelected);
  EXPECT_EQ(d.policies[2].state, PolicyState::Conflict);
  ASSERT_EQ(d.policies[0].errors.size(), 1u);
  EXPECT_EQ(d.policies[0].errors[0],
            "node node-a is selected by several policies (rack0, everyone); only one may apply, so none does");
  EXPECT_EQ(d.policies[2].errors, d.policies[0].errors);
  EXPECT_TRUE(d.config.routers.empty());
}

TEST(DesiredState, InvalidPolicyIsReportedAndDoesNotCount) {
  auto bad = parse_policy_object(yaml(R"(
metadata: {name: broken}
spec:
  virtualRouters: [{localASN: 0, neighbors: []}]
)"));
  auto d = run({bad, policy("rack0", kRack0)});
  EXPECT_EQ(d.policies[0].policy, "broken");
  EXPECT_EQ(d.policies[0].state, PolicyState::Invalid);
  EXPECT_EQ(d.policies[0].errors,
            std::vector<std::string>{"spec.virtualRouters[0].localASN: 0 is not a valid ASN (1..4294967295)"});
  EXPECT_EQ(d.policies[1].state, PolicyState::Applied);
  EXPECT_EQ(d.config.routers.size(), 1u);
}

TEST(DesiredState, RouterIdAnnotation) {
  BgpNode n = node();
  n.annotations["cilium.io/bgp-virtual-router.64512"] = "router-id=10.9.8.7,local-port=1790";
  auto d = run({policy("rack0", kRack0)}, n);
  EXPECT_EQ(d.policies[0].state, PolicyState::Applied);
  EXPECT_EQ(d.config.router_id, 0x0A090807u);
  EXPECT_EQ(d.config.listen_port, 1790);

  // An annotation for another ASN does not apply.
  BgpNode other = node();
  other.annotations["cilium.io/bgp-virtual-router.65000"] = "router-id=10.9.8.7";
  EXPECT_EQ(run({policy("rack0", kRack0)}, other).config.router_id, 0xC0A80105u);
}

TEST(DesiredState, Ipv6OnlyNodeNeedsTheAnnotation) {
  BgpNode n = node();
  n.internal_ips = {ip("fd00:1::5")};
  auto d = run({policy("rack0", kRack0)}, n);
  EXPECT_EQ(d.policies[0].state, PolicyState::Failed);
  EXPECT_EQ(d.policies[0].errors, std::vector<std::string>{
                                      "virtual router 64512: no router ID: node node-a has no IPv4 internal IP; set "
                                      "the node annotation cilium.io/bgp-virtual-router.64512=\"router-id=<IPv4>\""});
  EXPECT_TRUE(d.config.routers.empty());

  n.annotations["cilium.io/bgp-virtual-router.64512"] = "router-id=10.0.0.9";
  auto ok = run({policy("rack0", kRack0)}, n);
  EXPECT_EQ(ok.policies[0].state, PolicyState::Applied);
  EXPECT_EQ(ok.config.router_id, 0x0A000009u);
}

TEST(DesiredState, BadAnnotationFailsThePolicy) {
  BgpNode n = node();
  n.annotations["cilium.io/bgp-virtual-router.64512"] = "router-id=fd00::1";
  auto d = run({policy("rack0", kRack0)}, n);
  EXPECT_EQ(d.policies[0].state, PolicyState::Failed);
  EXPECT_EQ(d.policies[0].errors.at(0),
            "node annotation cilium.io/bgp-virtual-router.64512: router-id \"fd00::1\" is not a non-zero IPv4 address");
  n.annotations["cilium.io/bgp-virtual-router.64512"] = "router-id=10.0.0.1,local-port=99999";
  EXPECT_EQ(run({policy("rack0", kRack0)}, n).policies[0].errors.at(0),
            "node annotation cilium.io/bgp-virtual-router.64512: local-port \"99999\" must be 1..65535");
}

TEST(DesiredState, RoutersDisagreeingOnRouterIdFail) {
  const char* two = R"(
  virtualRouters:
  - {localASN: 64512, neighbors: []}
  - {localASN: 64513, neighbors: []}
)";
  BgpNode n = node();
  n.annotations["cilium.io/bgp-virtual-router.64513"] = "router-id=10.0.0.2";
  auto d = run({policy("two", two)}, n);
  EXPECT_EQ(d.policies[0].state, PolicyState::Failed);
  EXPECT_EQ(d.policies[0].errors.at(0),
            "virtual routers 64512 and 64513 have different router IDs (192.168.1.5, 10.0.0.2); this speaker uses "
            "one for all");
  n.annotations["cilium.io/bgp-virtual-router.64512"] = "router-id=10.0.0.2";
  auto ok = run({policy("two", two)}, n);
  EXPECT_EQ(ok.policies[0].state, PolicyState::Applied);
  EXPECT_EQ(ok.config.routers.size(), 2u);
  EXPECT_EQ(ok.config.router_id, 0x0A000002u);
}

TEST(DesiredState, ServiceSelectionAndAddressTypes) {
  auto lb = svc("lb", "LoadBalancer");
  lb.labels = {{"bgp", "yes"}};
  lb.cluster_ips = {ip("10.96.0.10"), ip("fd00:96::10")};
  lb.external_ips = {ip("198.51.100.7")};
  lb.lb_ingress = {ip("203.0.113.5"), ip("2001:db8::5")};
  auto unlabeled = svc("other", "LoadBalancer");
  unlabeled.lb_ingress = {ip("203.0.113.6")};
  auto clusterip = svc("cip", "ClusterIP");
  clusterip.labels = {{"bgp", "yes"}};
  clusterip.cluster_ips = {ip("10.96.0.11")};
  std::vector<service::Service> svcs{lb, unlabeled, clusterip};

  // Default serviceAdvertisements: LoadBalancer ingress IPs only.
  auto d = run({policy("p", R"(
  virtualRouters:
  - localASN: 64512
    serviceSelector: {matchLabels: {bgp: "yes"}}
    neighbors: []
)")}, node(), svcs);
  EXPECT_EQ(prefixes(d.config.routers.at(0)),
            (std::vector<IpPrefix>{pfx("203.0.113.5/32"), pfx("2001:db8::5/128")}));

  auto all = run({policy("p", R"(
  virtualRouters:
  - localASN: 64512
    serviceSelector: {matchLabels: {bgp: "yes"}}
    serviceAdvertisements: [LoadBalancerIP, ExternalIP, ClusterIP]
    neighbors: []
)")}, node(), svcs);
  EXPECT_EQ(prefixes(all.config.routers.at(0)),
            (std::vector<IpPrefix>{pfx("10.96.0.10/32"), pfx("10.96.0.11/32"), pfx("198.51.100.7/32"),
                                   pfx("203.0.113.5/32"), pfx("2001:db8::5/128"), pfx("fd00:96::10/128")}));

  // No serviceSelector: no services at all.
  auto none = run({policy("p", "  virtualRouters: [{localASN: 64512, neighbors: []}]\n")}, node(), svcs);
  EXPECT_TRUE(none.config.routers.at(0).routes.empty());
}

TEST(DesiredState, MatchEverythingSelectorIdiomAndServiceNameLabels) {
  auto a = svc("a", "LoadBalancer");
  a.lb_ingress = {ip("203.0.113.1")};
  auto b = svc("b", "LoadBalancer");
  b.ns = "prod";
  b.labels = {{"team", "x"}};
  b.lb_ingress = {ip("203.0.113.2")};
  // Upstream's documented idiom: NotIn on a value no service carries.
  auto d = run({policy("p", R"(
  virtualRouters:
  - localASN: 64512
    serviceSelector:
      matchExpressions: [{key: somekey, operator: NotIn, values: ["never-used-value"]}]
    neighbors: []
)")}, node(), {a, b});
  EXPECT_EQ(prefixes(d.config.routers.at(0)), (std::vector<IpPrefix>{pfx("203.0.113.1/32"), pfx("203.0.113.2/32")}));

  auto by_ns = run({policy("p", R"(
  virtualRouters:
  - localASN: 64512
    serviceSelector: {matchLabels: {io.kubernetes.service.namespace: prod}}
    neighbors: []
)")}, node(), {a, b});
  EXPECT_EQ(prefixes(by_ns.config.routers.at(0)), (std::vector<IpPrefix>{pfx("203.0.113.2/32")}));
}

TEST(DesiredState, LoadBalancerClassOfAnotherControllerIsSkipped) {
  auto mine = svc("mine", "LoadBalancer");
  mine.load_balancer_class = "io.cilium/bgp-control-plane";
  mine.lb_ingress = {ip("203.0.113.1")};
  auto theirs = svc("theirs", "LoadBalancer");
  theirs.load_balancer_class = "example.com/other-lb";
  theirs.lb_ingress = {ip("203.0.113.2")};
  auto d = run({policy("p", R"(
  virtualRouters:
  - localASN: 64512
    serviceSelector: {}
    neighbors: []
)")}, node(), {mine, theirs});
  EXPECT_EQ(prefixes(d.config.routers.at(0)), (std::vector<IpPrefix>{pfx("203.0.113.1/32")}));
}

TEST(DesiredState, TrafficPolicyLocalNeedsALocalBackend) {
  auto local = svc("local", "LoadBalancer");
  local.external_policy = service::TrafficPolicy::Local;
  local.lb_ingress = {ip("203.0.113.1"), ip("2001:db8::1")};
  local.external_ips = {ip("198.51.100.1")};
  local.cluster_ips = {ip("10.96.0.1")};  // internal policy Cluster: always
  auto ilocal = svc("ilocal", "ClusterIP");
  ilocal.internal_policy = service::TrafficPolicy::Local;
  ilocal.cluster_ips = {ip("10.96.0.2")};
  const std::string spec = R"(
  virtualRouters:
  - localASN: 64512
    serviceSelector: {}
    serviceAdvertisements: [LoadBalancerIP, ExternalIP, ClusterIP]
    neighbors: []
)";
  auto without = run({policy("p", spec)}, node(), {local, ilocal}, {});
  EXPECT_EQ(prefixes(without.config.routers.at(0)), (std::vector<IpPrefix>{pfx("10.96.0.1/32")}));

  auto with = run({policy("p", spec)}, node(), {local, ilocal}, {"default/local", "default/ilocal"});
  EXPECT_EQ(prefixes(with.config.routers.at(0)),
            (std::vector<IpPrefix>{pfx("10.96.0.1/32"), pfx("10.96.0.2/32"), pfx("198.51.100.1/32"),
                                   pfx("203.0.113.1/32"), pfx("2001:db8::1/128")}));
}

TEST(DesiredState, AuthSecretLookup) {
  const char* spec = R"(
  virtualRouters:
  - localASN: 64512
    neighbors:
    - {peerAddress: 10.0.0.1/32, peerASN: 64513, authSecretRef: bgp-a}
    - {peerAddress: 10.0.0.2/32, peerASN: 64513, authSecretRef: missing}
    - {peerAddress: 10.0.0.3/32, peerASN: 64513}
  - localASN: 64600
    neighbors:
    - {peerAddress: "fd00::1/128", peerASN: 64601, authSecretRef: bgp-a}
)";
  auto d = run({policy("p", spec)}, node(), {}, {}, {{"bgp-a", "s3cret"}});
  EXPECT_EQ(d.policies[0].state, PolicyState::Applied);
  EXPECT_EQ(d.policies[0].errors,
            std::vector<std::string>{"spec.virtualRouters[0].neighbors[1].authSecretRef: secret \"missing\" not "
                                     "found (or has no password); neighbor 10.0.0.2 not configured"});
  ASSERT_EQ(d.config.routers.size(), 2u);
  auto& r0 = d.config.routers[0];
  ASSERT_EQ(r0.neighbors.size(), 2u);
  EXPECT_EQ(r0.neighbors[0].peer_address, ip("10.0.0.1"));
  EXPECT_EQ(r0.neighbors[0].md5_password, "s3cret");
  EXPECT_EQ(r0.neighbors[1].peer_address, ip("10.0.0.3"));
  EXPECT_EQ(r0.neighbors[1].md5_password, "");
  ASSERT_EQ(d.config.routers[1].neighbors.size(), 1u);
  EXPECT_EQ(d.config.routers[1].neighbors[0].md5_password, "s3cret");
}

TEST(DesiredState, NeighborConfigCarriesParsedFields) {
  auto d = run({policy("p", R"(
  virtualRouters:
  - localASN: 64512
    neighbors:
    - peerAddress: "fd00:10::1/128"
      peerASN: 64513
      peerPort: 1179
      eBGPMultihopTTL: 3
      holdTimeSeconds: 9
      keepAliveTimeSeconds: 3
      gracefulRestart: {enabled: true, restartTimeSeconds: 60}
      families: [{afi: ipv6, safi: unicast}]
)")});
  auto& n = d.config.routers.at(0).neighbors.at(0);
  EXPECT_EQ(n.peer_address, ip("fd00:10::1"));
  EXPECT_EQ(n.peer_port, 1179);
  EXPECT_EQ(n.ebgp_multihop_ttl, 3);
  EXPECT_EQ(n.hold_time_s, 9);
  EXPECT_EQ(n.keepalive_s, 3);
  EXPECT_TRUE(n.graceful_restart);
  EXPECT_EQ(n.restart_time_s, 60);
  EXPECT_EQ(n.families, (std::vector<Family>{{Afi::IPv6, Safi::Unicast}}));
}

TEST(DesiredState, ServicesWithLocalBackends) {
  service::EndpointSlice s;
  s.ns = "default";
  s.service_name = "web";
  service::SliceEndpoint here{{ip("10.244.1.7")}, true, true, false, "node-a", ""};
  service::SliceEndpoint elsewhere{{ip("10.244.2.7")}, true, true, false, "node-b", ""};
  service::SliceEndpoint not_ready{{ip("10.244.1.8")}, false, true, false, "node-a", ""};
  service::SliceEndpoint terminating{{ip("10.244.1.9")}, true, true, true, "node-a", ""};
  s.endpoints = {elsewhere};
  EXPECT_TRUE(services_with_local_backends({s}, "node-a").empty());
  s.endpoints = {elsewhere, not_ready, terminating};
  EXPECT_TRUE(services_with_local_backends({s}, "node-a").empty());
  s.endpoints = {elsewhere, here};
  EXPECT_EQ(services_with_local_backends({s}, "node-a"), std::set<std::string>{"default/web"});
  EXPECT_EQ(services_with_local_backends({s}, "node-b"), std::set<std::string>{"default/web"});
}
