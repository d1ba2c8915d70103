// The computed map state of many policy combinations: policies + the model
// cluster (world.h) → the exact policy map entries of one endpoint.
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include "world.h"

using namespace policy_test;

namespace {

struct Case {
  const char* name;
  std::string policies;  // YAML documents
  uint16_t ep;
  bool enforce_in;
  bool enforce_out;
  std::vector<std::string> entries;  // render() form, allow-localhost left out
};

std::string cnp_x(const std::string& spec, const char* name = "p", const char* ns = "x") {
  return std::string("apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: ") + name +
         ", namespace: " + ns + "}\n" + spec;
}
std::string ccnp(const std::string& spec, const char* name = "cw") {
  return std::string("apiVersion: cilium.io/v2\nkind: CiliumClusterwideNetworkPolicy\nmetadata: {name: ") + name +
         "}\n" + spec;
}
std::string knp(const std::string& spec, const char* name = "np", const char* ns = "x") {
  return std::string("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: ") + name +
         ", namespace: " + ns + "}\n" + spec;
}
std::string in(uint32_t id, const std::string& what, bool deny = false) {
  return "ingress id=" + std::to_string(id) + " " + what + (deny ? " deny" : " allow");
}
std::string eg(uint32_t id, const std::string& what, bool deny = false) {
  return "egress id=" + std::to_string(id) + " " + what + (deny ? " deny" : " allow");
}
const uint32_t XA = 256, XB = 257, XC = 258, YA = 259, YB = 260, YC = 261, ZA = 262, ZB = 263, ZC = 264;

std::vector<Case> cases() {
  std::vector<Case> c;
  c.push_back({"NoPolicy", "", 1, false, false, {}});
  c.push_back({"L3FromPod", cnp_x("spec:\n  endpointSelector: {matchLabels: {pod: a}}\n  ingress:\n  - fromEndpoints: [{matchLabels: {pod: b}}]\n"),
               1, true, false, {in(XB, "ANY")}});
  c.push_back({"L3FromAllInNamespace", cnp_x("spec:\n  endpointSelector: {matchLabels: {pod: a}}\n  ingress:\n  - fromEndpoints: [{}]\n"),
               1, true, false, {in(XA, "ANY"), in(XB, "ANY"), in(XC, "ANY")}});
  c.push_back({"L3L4FromPod", cnp_x("spec:\n  endpointSelector: {matchLabels: {pod: a}}\n  ingress:\n  - fromEndpoints: [{matchLabels: {pod: b}}]\n    toPorts: [{ports: [{port: \"80\", protocol: TCP}]}]\n"),
               1, true, false, {in(XB, "80/TCP")}});
  c.push_back({"L4OnlyIsAnyPeer", cnp_x("spec:\n  endpointSelector: {}\n  ingress:\n  - toPorts: [{ports: [{port: \"80\", protocol: TCP}]}]\n"),
               1, true, false, {in(0, "80/TCP")}});
  c.push_back({"AnyProtocolExpands", cnp_x("spec:\n  endpointSelector: {}\n  ingress:\n  - toPorts: [{ports: [{port: \"53\"}]}]\n"),
               1, true, false, {in(0, "53/TCP"), in(0, "53/UDP"), in(0, "53/SCTP")}});
  c.push_back({"PortZeroIsAllPortsOfProtocol", cnp_x("spec:\n  endpointSelector: {}\n  ingress:\n  - toPorts: [{ports: [{port: \"0\", protocol: UDP}]}]\n"),
               1, true, false, {in(0, "0/UDP")}});
  c.push_back({"EntityAllIsIdentityZero", cnp_x("spec:\n  endpointSelector: {}\n  ingress:\n  - fromEntities: [all]\n"),
               1, true, false, {in(0, "ANY")}});
  c.push_back({"EntityWorldIncludesCidrIdentities", cnp_x("spec:\n  endpointSelector: {}\n  ingress:\n  - fromEntities: [world]\n"),
               1, true, false, {in(2, "ANY"), in(kC8, "ANY"), in(kC12, "ANY"), in(kC24, "ANY"), in(kC32, "ANY"), in(kC6, "ANY")}});
  {
    std::vector<std::string> cl;
    for (uint32_t id : {1u, 3u, 4u, 5u, 6u, 7u, 8u}) cl.push_back(eg(id, "ANY"));
    for (uint32_t id = 256; id <= 265; ++id) cl.push_back(eg(id, "ANY"));
    std::sort(cl.begin(), cl.end(), [](const std::string& a, const std::string& b) {
      return std::stoul(a.substr(a.find('=') + 1)) < std::stoul(b.substr(b.find('=') + 1));
    });
    c.push_back({"EntityClusterIsEverythingButWorld", cnp_x("spec:\n  endpointSelector: {}\n  egress:\n  - toEntities: [cluster]\n"),
                 1, false, true, cl});
  }
  c.push_back({"EntityHostAndRemoteNode", cnp_x("spec:\n  endpointSelector: {}\n  ingress:\n  - fromEntities: [host, remote-node]\n"),
               1, true, false, {in(1, "ANY"), in(6, "ANY"), in(7, "ANY")}});
  c.push_back({"EntityKubeApiserver", cnp_x("spec:\n  endpointSelector: {}\n  egress:\n  - toEntities: [kube-apiserver]\n    toPorts: [{ports: [{port: \"6443\", protocol: TCP}]}]\n"),
               1, false, true, {eg(7, "6443/TCP")}});
  c.push_back({"EntityHealthInitUnmanagedIngress", cnp_x("spec:\n  endpointSelector: {}\n  ingress:\n  - fromEntities: [health, init, unmanaged, ingress]\n"),
               1, true, false, {in(3, "ANY"), in(4, "ANY"), in(5, "ANY"), in(8, "ANY")}});
  c.push_back({"ToCidrHost", cnp_x("spec:\n  endpointSelector: {}\n  egress:\n  - toCIDR: [20.1.1.1/32]\n"),
               1, false, true, {eg(kC32, "ANY")}});
  c.push_back({"ToCidrIncludesMoreSpecificIdentities", cnp_x("spec:\n  endpointSelector: {}\n  egress:\n  - toCIDR: [10.0.0.0/8]\n"),
               1, false, true, {eg(kC8, "ANY"), eg(kC12, "ANY")}});
  c.push_back({"ToCidrSetExcept", cnp_x("spec:\n  endpointSelector: {}\n  egress:\n  - toCIDRSet: [{cidr: 10.0.0.0/8, except: [10.96.0.0/12]}]\n"),
               1, false, true, {eg(kC8, "ANY")}});
  // Without the world split, 0.0.0.0/0 means reserved:world, which every
  // CIDR identity carries, IPv6 ones included (upstream behaves the same).
  c.push_back({"ToAllIPv4IncludesWorld", cnp_x("spec:\n  endpointSelector: {}\n  egress:\n  - toCIDR: [0.0.0.0/0]\n"),
               1, false, true, {eg(2, "ANY"), eg(kC8, "ANY"), eg(kC12, "ANY"), eg(kC24, "ANY"), eg(kC32, "ANY"), eg(kC6, "ANY")}});
  c.push_back({"ToAllIPv6", cnp_x("spec:\n  endpointSelector: {}\n  egress:\n  - toCIDR: [\"::/0\"]\n"),
               1, false, true, {eg(2, "ANY"), eg(kC8, "ANY"), eg(kC12, "ANY"), eg(kC24, "ANY"), eg(kC32, "ANY"), eg(kC6, "ANY")}});
  c.push_back({"CidrL4", cnp_x("spec:\n  endpointSelector: {}\n  egress:\n  - toCIDR: [192.0.2.0/24]\n    toPorts: [{ports: [{port: \"443\", protocol: TCP}]}]\n"),
               1, false, true, {eg(kC24, "443/TCP")}});
  c.push_back({"DenyPodWithAllowAll", cnp_x("spec:\n  endpointSelector: {}\n  ingress:\n  - fromEntities: [all]\n  ingressDeny:\n  - fromEndpoints: [{matchLabels: {pod: b}}]\n"),
               1, true, false, {in(0, "ANY"), in(XB, "ANY", true)}});
  c.push_back({"DenyOnlyStillEnforces", ccnp("spec:\n  endpointSelector: {}\n  ingressDeny:\n  - fromEntities: [world]\n    toPorts: [{ports: [{port: \"22\", protocol: TCP}]}]\n"),
               1, true, false, {in(2, "22/TCP", true), in(kC8, "22/TCP", true), in(kC12, "22/TCP", true), in(kC24, "22/TCP", true), in(kC32, "22/TCP", true), in(kC6, "22/TCP", true)}});
  c.push_back({"EgressDenyPortAnyPeer", cnp_x("spec:\n  endpointSelector: {}\n  egress:\n  - toEntities: [all]\n  egressDeny:\n  - toPorts: [{ports: [{port: \"25\"}]}]\n"),
               1, false, true, {eg(0, "ANY"), eg(0, "25/TCP", true), eg(0, "25/UDP", true), eg(0, "25/SCTP", true)}});
  c.push_back({"DenyAndAllowSameKeyDenyWins", cnp_x("spec:\n  endpointSelector: {}\n  ingress:\n  - fromEndpoints: [{matchLabels: {pod: b}}]\n  ingressDeny:\n  - fromEndpoints: [{matchLabels: {pod: b}}]\n"),
               1, true, false, {in(XB, "ANY", true)}});
  c.push_back({"Icmp", cnp_x("spec:\n  endpointSelector: {}\n  ingress:\n  - icmps: [{fields: [{type: 8, family: IPv4}, {type: EchoRequest, family: IPv6}]}]\n"),
               1, true, false, {in(0, "ICMP type 8"), in(0, "ICMPv6 type 128")}});
  c.push_back({"IcmpFromPod", cnp_x("spec:\n  endpointSelector: {}\n  egress:\n  - toEndpoints: [{matchLabels: {pod: c}}]\n    icmps: [{fields: [{type: 8}]}]\n"),
               1, false, true, {eg(XC, "ICMP type 8")}});
  c.push_back({"NamedPortIngressResolvesOnEndpoint", cnp_x("spec:\n  endpointSelector: {}\n  ingress:\n  - toPorts: [{ports: [{port: serve-81-udp}]}]\n"),
               1, true, false, {in(0, "81/UDP")}});
  c.push_back({"NamedPortIngressOnOtherEndpoint", cnp_x("spec:\n  endpointSelector: {}\n  ingress:\n  - toPorts: [{ports: [{port: db, protocol: TCP}]}]\n"),
               3, true, false, {in(0, "5432/TCP")}});
  c.push_back({"NamedPortMissingOnEndpoint", cnp_x("spec:\n  endpointSelector: {}\n  ingress:\n  - toPorts: [{ports: [{port: db, protocol: TCP}]}]\n"),
               1, true, false, {}});
  c.push_back({"NamedPortEgressPerDestination", cnp_x("spec:\n  endpointSelector: {matchLabels: {pod: a}}\n  egress:\n  - toEndpoints: [{matchExpressions: [{key: k8s:io.kubernetes.pod.namespace, operator: Exists}]}]\n    toPorts: [{ports: [{port: db}]}]\n"),
               1, false, true, {eg(XC, "5432/TCP"), eg(YC, "5432/TCP"), eg(ZC, "5432/TCP")}});
  c.push_back({"PortRange", cnp_x("spec:\n  endpointSelector: {}\n  egress:\n  - toPorts: [{ports: [{port: \"8080\", endPort: 8082, protocol: TCP}]}]\n"),
               1, false, true, {eg(0, "8080/TCP"), eg(0, "8081/TCP"), eg(0, "8082/TCP")}});
  {
    std::vector<std::string> all;
    for (uint32_t id = 256; id <= 265; ++id) all.push_back(in(id, "ANY"));
    c.push_back({"ClusterwideEmptyPeerIsAllPods", ccnp("spec:\n  endpointSelector: {}\n  ingress:\n  - fromEndpoints: [{}]\n"),
                 1, true, false, all});
  }
  c.push_back({"ClusterwideSubjectByNamespace", ccnp("spec:\n  endpointSelector: {matchLabels: {k8s:io.kubernetes.pod.namespace: \"y\"}}\n  ingress:\n  - fromEndpoints: [{matchLabels: {pod: a}}]\n"),
               4, true, false, {in(XA, "ANY"), in(YA, "ANY"), in(ZA, "ANY")}});
  c.push_back({"ClusterwideSubjectOtherNamespace", ccnp("spec:\n  endpointSelector: {matchLabels: {k8s:io.kubernetes.pod.namespace: \"y\"}}\n  ingress:\n  - fromEndpoints: [{}]\n"),
               1, false, false, {}});
  c.push_back({"PolicyInOtherNamespaceDoesNotSelect", cnp_x("spec:\n  endpointSelector: {}\n  ingress:\n  - fromEntities: [all]\n", "p", "\"y\""),
               1, false, false, {}});
  c.push_back({"ExplicitPeerNamespace", cnp_x("spec:\n  endpointSelector: {}\n  ingress:\n  - fromEndpoints: [{matchLabels: {k8s:io.kubernetes.pod.namespace: \"y\"}}]\n"),
               1, true, false, {in(YA, "ANY"), in(YB, "ANY"), in(YC, "ANY")}});
  c.push_back({"PeerNamespaceByNamespaceLabelIsStillScoped", cnp_x("spec:\n  endpointSelector: {}\n  ingress:\n  - fromEndpoints: [{matchLabels: {k8s:io.cilium.k8s.namespace.labels.ns: \"y\"}}]\n"),
               1, true, false, {}});
  c.push_back({"MatchExpressionsIn", cnp_x("spec:\n  endpointSelector: {matchLabels: {pod: a}}\n  ingress:\n  - fromEndpoints: [{matchExpressions: [{key: pod, operator: In, values: [b, c]}]}]\n"),
               1, true, false, {in(XB, "ANY"), in(XC, "ANY")}});
  c.push_back({"MatchExpressionsNotIn", cnp_x("spec:\n  endpointSelector: {matchLabels: {pod: a}}\n  ingress:\n  - fromEndpoints: [{matchExpressions: [{key: pod, operator: NotIn, values: [a]}]}]\n"),
               1, true, false, {in(XB, "ANY"), in(XC, "ANY")}});
  c.push_back({"AnyNamespaceByExists", cnp_x("spec:\n  endpointSelector: {matchLabels: {pod: a}}\n  ingress:\n  - fromEndpoints: [{matchLabels: {app: client}, matchExpressions: [{key: io.kubernetes.pod.namespace, operator: Exists}]}]\n"),
               1, true, false, {in(XB, "ANY"), in(YB, "ANY"), in(ZB, "ANY")}});
  c.push_back({"ServiceAccountAndKubeDns", cnp_x("spec:\n  endpointSelector: {}\n  egress:\n  - toEndpoints: [{matchLabels: {io.cilium.k8s.policy.serviceaccount: coredns, k8s:io.kubernetes.pod.namespace: kube-system}}]\n    toPorts: [{ports: [{port: \"53\", protocol: UDP}]}]\n"),
               1, false, true, {eg(kDns, "53/UDP")}});
  c.push_back({"RequiresNarrowsOtherRules",
               cnp_x("spec:\n  endpointSelector: {matchLabels: {pod: a}}\n  ingress:\n  - fromRequires: [{matchLabels: {pod: b}}]\n", "req") + "---\n" +
                   cnp_x("spec:\n  endpointSelector: {matchLabels: {pod: a}}\n  ingress:\n  - fromEndpoints: [{}]\n  - fromEntities: [world]\n", "allow"),
               1, true, false, {in(2, "ANY"), in(XB, "ANY"), in(kC8, "ANY"), in(kC12, "ANY"), in(kC24, "ANY"), in(kC32, "ANY"), in(kC6, "ANY")}});
  c.push_back({"TwoPoliciesUnion",
               cnp_x("spec:\n  endpointSelector: {}\n  ingress:\n  - fromEndpoints: [{matchLabels: {pod: b}}]\n    toPorts: [{ports: [{port: \"80\", protocol: TCP}]}]\n", "p1") + "---\n" +
                   cnp_x("spec:\n  endpointSelector: {matchLabels: {pod: a}}\n  ingress:\n  - fromEndpoints: [{matchLabels: {pod: c}}]\n    toPorts: [{ports: [{port: \"81\", protocol: TCP}]}]\n", "p2"),
               1, true, false, {in(XB, "80/TCP"), in(XC, "81/TCP")}});
  c.push_back({"EgressDefaultDeny", cnp_x("spec:\n  endpointSelector: {}\n  egress:\n  - {}\n"), 1, false, true, {}});
  c.push_back({"EmptyEgressListIsNoPolicy", cnp_x("spec:\n  endpointSelector: {}\n  egress: []\n"), 1, false, false, {}});
  c.push_back({"ExplicitEmptyPeerListSelectsNothing", cnp_x("spec:\n  endpointSelector: {}\n  ingress:\n  - fromEndpoints: []\n    toPorts: [{ports: [{port: \"80\"}]}]\n"),
               1, true, false, {}});
  c.push_back({"IngressAndEgressInOneRule", cnp_x("spec:\n  endpointSelector: {matchLabels: {pod: b}}\n  ingress:\n  - fromEndpoints: [{matchLabels: {pod: a}}]\n  egress:\n  - toEndpoints: [{matchLabels: {pod: c}}]\n    toPorts: [{ports: [{port: \"5432\", protocol: TCP}]}]\n"),
               2, true, true, {in(XA, "ANY"), eg(XC, "5432/TCP")}});
  c.push_back({"K8sDefaultDenyIngress", knp("spec:\n  podSelector: {}\n  policyTypes: [Ingress]\n"), 1, true, false, {}});
  c.push_back({"K8sDefaultDenyEgressOnly", knp("spec:\n  podSelector: {}\n  policyTypes: [Egress]\n"), 1, false, true, {}});
  c.push_back({"K8sAllowAllIngress", knp("spec:\n  podSelector: {}\n  ingress: [{}]\n"), 1, true, false, {in(0, "ANY")}});
  c.push_back({"K8sFromPodPort", knp("spec:\n  podSelector: {matchLabels: {pod: a}}\n  ingress:\n  - from: [{podSelector: {matchLabels: {pod: b}}}]\n    ports: [{port: 80}]\n"),
               1, true, false, {in(XB, "80/TCP")}});
  c.push_back({"K8sNamespaceAndPodSelector", knp("spec:\n  podSelector: {}\n  ingress:\n  - from: [{namespaceSelector: {matchLabels: {ns: \"y\"}}, podSelector: {matchLabels: {pod: b}}}]\n"),
               1, true, false, {in(YB, "ANY")}});
  c.push_back({"K8sNamespaceOrPodSelector", knp("spec:\n  podSelector: {}\n  ingress:\n  - from: [{namespaceSelector: {matchLabels: {ns: \"y\"}}}, {podSelector: {matchLabels: {pod: b}}}]\n"),
               1, true, false, {in(XB, "ANY"), in(YA, "ANY"), in(YB, "ANY"), in(YC, "ANY")}});
  c.push_back({"K8sMetadataNameNamespaceLabel", knp("spec:\n  podSelector: {}\n  ingress:\n  - from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}}]\n"),
               1, true, false, {in(kDns, "ANY")}});
  c.push_back({"K8sIpBlockExcept", knp("spec:\n  podSelector: {}\n  policyTypes: [Egress]\n  egress:\n  - to: [{ipBlock: {cidr: 10.0.0.0/8, except: [10.96.0.0/12]}}]\n"),
               1, false, true, {eg(kC8, "ANY")}});
  c.push_back({"K8sProtocolWithoutPort", knp("spec:\n  podSelector: {}\n  ingress:\n  - ports: [{protocol: UDP}]\n"),
               1, true, false, {in(0, "0/UDP")}});
  c.push_back({"K8sNamedPort", knp("spec:\n  podSelector: {}\n  ingress:\n  - ports: [{port: serve-81-udp, protocol: UDP}]\n"),
               1, true, false, {in(0, "81/UDP")}});
  c.push_back({"K8sEndPort", knp("spec:\n  podSelector: {}\n  ingress:\n  - ports: [{port: 80, endPort: 81}]\n"),
               1, true, false, {in(0, "80/TCP"), in(0, "81/TCP")}});
  c.push_back({"CnpAndK8sCombined",
               knp("spec:\n  podSelector: {}\n  ingress:\n  - from: [{podSelector: {matchLabels: {pod: b}}}]\n") + "---\n" +
                   cnp_x("spec:\n  endpointSelector: {}\n  ingressDeny:\n  - fromEndpoints: [{matchLabels: {pod: b}}]\n    toPorts: [{ports: [{port: \"22\", protocol: TCP}]}]\n"),
               1, true, false, {in(XB, "ANY"), in(XB, "22/TCP", true)}});
  return c;
}

class MapStateCase : public ::testing::TestWithParam<Case> {};

}  // namespace

TEST_P(MapStateCase, ComputedEntries) {
  const Case& tc = GetParam();
  PolicyEngine e;
  populate(e);
  apply_all(e, tc.policies);
  auto p = e.endpoint_policy(tc.ep);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->enforce_ingress, tc.enforce_in);
  EXPECT_EQ(p->enforce_egress, tc.enforce_out);
  EXPECT_EQ(render(p->entries), tc.entries);
  // Applying in the other order, or after the endpoints exist vs. before,
  // must give the same result.
  PolicyEngine f;
  apply_all(f, tc.policies);
  populate(f);
  EXPECT_EQ(render(f.endpoint_policy(tc.ep)->entries), tc.entries);
}

INSTANTIATE_TEST_SUITE_P(Policies, MapStateCase, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<Case>& i) { return std::string(i.param.name); });

TEST(MapState, AllowLocalhostEntryWhenIngressEnforced) {
  PolicyEngine e;
  populate(e);
  apply_all(e, cnp_x("spec:\n  endpointSelector: {matchLabels: {pod: a}}\n  ingress:\n  - {}\n"));
  auto p = e.endpoint_policy(1);
  EXPECT_EQ(render(p->entries, true), (std::vector<std::string>{"ingress id=1 ANY allow"}));
  EXPECT_EQ(p->entries.begin()->second.cookie, kCookieAllowLocalhost);
  EXPECT_TRUE(e.endpoint_policy(2)->entries.empty());  // not enforced: no entries at all
  EngineConfig cfg;
  cfg.allow_localhost = false;
  PolicyEngine g(cfg);
  populate(g);
  apply_all(g, cnp_x("spec:\n  endpointSelector: {matchLabels: {pod: a}}\n  ingress:\n  - {}\n"));
  EXPECT_TRUE(g.endpoint_policy(1)->entries.empty());
}

TEST(MapState, DenyOfHostBeatsAllowLocalhostInTheDatapath) {
  PolicyEngine e;
  populate(e);
  apply_all(e, cnp_x("spec:\n  endpointSelector: {}\n  ingressDeny:\n  - fromEntities: [host]\n"));
  auto p = e.endpoint_policy(1);
  EXPECT_FALSE(map_allows(*p, CPP_DIR_INGRESS, 1, kProtoTCP, 80));
}

TEST(MapState, CidrGroupRefFollowsGroupChanges) {
  PolicyEngine e;
  populate(e);
  apply_all(e, cnp_x("spec:\n  endpointSelector: {}\n  egress:\n  - toCIDRSet: [{cidrGroupRef: vpn}]\n"));
  EXPECT_TRUE(e.endpoint_policy(1)->entries.empty());  // group unknown: nothing allowed
  EXPECT_TRUE(e.endpoint_policy(1)->enforce_egress);
  EXPECT_TRUE(e.cidr_prefixes().empty());
  e.take_changes();
  e.apply(yaml("apiVersion: cilium.io/v2alpha1\nkind: CiliumCIDRGroup\nmetadata: {name: vpn}\nspec:\n  externalCIDRs: [192.0.2.0/24, 20.1.1.1/32]\n"));
  EXPECT_EQ(render(e.endpoint_policy(1)->entries), (std::vector<std::string>{eg(kC24, "ANY"), eg(kC32, "ANY")}));
  auto pre = e.cidr_prefixes();
  ASSERT_EQ(pre.size(), 2u);
  auto ch = e.take_changes();
  EXPECT_EQ(ch.size(), 6u);  // 2 entries × the 3 endpoints of namespace x
  e.remove("CiliumCIDRGroup", "", "vpn");
  EXPECT_TRUE(e.endpoint_policy(1)->entries.empty());
}

TEST(MapState, CidrGroupSelectorWithExcept) {
  PolicyEngine e;
  populate(e);
  e.apply(yaml("apiVersion: cilium.io/v2alpha1\nkind: CiliumCIDRGroup\nmetadata: {name: corp, labels: {role: corp}}\nspec:\n  externalCIDRs: [10.0.0.0/8]\n"));
  apply_all(e, cnp_x("spec:\n  endpointSelector: {matchLabels: {pod: a}}\n  egress:\n  - toCIDRSet: [{cidrGroupSelector: {matchLabels: {role: corp}}, except: [10.96.0.0/12]}]\n"));
  EXPECT_EQ(render(e.endpoint_policy(1)->entries), (std::vector<std::string>{eg(kC8, "ANY")}));
  auto pre = e.cidr_prefixes();
  ASSERT_EQ(pre.size(), 2u);
  EXPECT_EQ(pre[0].str(), "10.0.0.0/8");
  EXPECT_EQ(pre[1].str(), "10.96.0.0/12");
}

TEST(MapState, CidrPrefixesFromAllPolicies) {
  PolicyEngine e;
  apply_all(e, cnp_x("spec:\n  endpointSelector: {}\n  egress:\n  - toCIDR: [0.0.0.0/0]\n  - toCIDRSet: [{cidr: 10.0.0.0/8, except: [10.96.0.0/12]}]\n  egressDeny:\n  - toCIDR: [\"2001:db8::/32\", 20.1.1.1]\n"));
  std::vector<std::string> s;
  for (const auto& p : e.cidr_prefixes()) s.push_back(p.str());
  EXPECT_EQ(s, (std::vector<std::string>{"10.0.0.0/8", "10.96.0.0/12", "20.1.1.1/32", "2001:db8::/32"}));
}

TEST(MapState, DocumentedDenyTable) {
  // Documentation/security/policy/language.rst "Deny Policies" table, server
  // pod = x/a, client = x/b. Columns 1..5.
  const std::string allow = cnp_x(R"(spec:
  endpointSelector: {matchLabels: {pod: a}}
  ingress:
  - fromEndpoints: [{matchLabels: {pod: b}}]
    toPorts: [{ports: [{port: "80", protocol: TCP}]}]
  - fromEndpoints: [{matchLabels: {pod: b}}]
    toPorts: [{ports: [{port: "81", protocol: TCP}]}]
  - fromEndpoints: [{matchLabels: {pod: b}}]
)", "allow");
  const std::string deny_l4 = cnp_x(R"(spec:
  endpointSelector: {matchLabels: {pod: a}}
  ingressDeny:
  - toPorts: [{ports: [{port: "80", protocol: TCP}]}]
)", "deny-l4");
  const std::string deny_l3 = cnp_x(R"(spec:
  endpointSelector: {matchLabels: {pod: a}}
  ingressDeny:
  - fromEndpoints: [{matchLabels: {pod: b}}]
)", "deny-l3");
  struct Col {
    std::string policies;
    bool p81, p80, ping;
  };
  std::vector<Col> cols = {
      {allow, true, true, true},
      {allow + "---\n" + deny_l4, true, false, true},
      {allow + "---\n" + deny_l3, false, false, false},
      {allow + "---\n" + deny_l4 + "---\n" + deny_l3, false, false, false},
      {deny_l4, false, false, false},
  };
  for (size_t i = 0; i < cols.size(); ++i) {
    PolicyEngine e;
    populate(e);
    apply_all(e, cols[i].policies);
    EXPECT_EQ(flow(e, 2, 1, kProtoTCP, 81), cols[i].p81) << "column " << i + 1;
    EXPECT_EQ(flow(e, 2, 1, kProtoTCP, 80), cols[i].p80) << "column " << i + 1;
    EXPECT_EQ(flow(e, 2, 1, kProtoICMP, 8), cols[i].ping) << "column " << i + 1;
  }
}

TEST(MapState, CookiesNameTheRule) {
  PolicyEngine e;
  populate(e);
  apply_all(e, cnp_x("spec:\n  endpointSelector: {}\n  ingress:\n  - fromEndpoints: [{matchLabels: {pod: b}}]\n  ingressDeny:\n  - fromEndpoints: [{matchLabels: {pod: c}}]\n", "named"));
  auto p = e.endpoint_policy(1);
  auto allow = p->entries.at(MapKey{XB, CPP_DIR_INGRESS, 0, 0});
  auto deny = p->entries.at(MapKey{XC, CPP_DIR_INGRESS, 0, 0});
  EXPECT_EQ(e.describe_cookie(allow.cookie), "CiliumNetworkPolicy x/named spec.ingress[0]");
  EXPECT_EQ(e.describe_cookie(deny.cookie), "CiliumNetworkPolicy x/named spec.ingressDeny[0]");
  EXPECT_TRUE(deny.deny);
  EXPECT_EQ(e.describe_cookie(kCookieAllowLocalhost).rfind("allow-localhost", 0), 0u);
  EXPECT_EQ(e.describe_cookie(999999), "");
  // Re-applying keeps cookies; removal marks them.
  apply_all(e, cnp_x("spec:\n  endpointSelector: {}\n  ingress:\n  - fromEndpoints: [{matchLabels: {pod: b}}]\n  ingressDeny:\n  - fromEndpoints: [{matchLabels: {pod: c}}]\n", "named"));
  EXPECT_EQ(e.endpoint_policy(1)->entries.at(MapKey{XB, CPP_DIR_INGRESS, 0, 0}).cookie, allow.cookie);
  e.remove("CiliumNetworkPolicy", "x", "named");
  EXPECT_EQ(e.describe_cookie(allow.cookie), "CiliumNetworkPolicy x/named spec.ingress[0] (removed)");
}

TEST(MapState, WorldSplitSelectsByFamily) {
  EngineConfig cfg;
  cfg.world_split = true;
  PolicyEngine e(cfg);
  e.upsert_endpoint(1, XA, model_pod_labels("x", 0));
  e.add_identity(kC8, cpp::labels::cidr_identity_labels(*cpp::IpPrefix::parse("10.0.0.0/8"), true));
  e.add_identity(kC6, cpp::labels::cidr_identity_labels(*cpp::IpPrefix::parse("2001:db8::/32"), true));
  apply_all(e, cnp_x("spec:\n  endpointSelector: {}\n  egress:\n  - toCIDR: [0.0.0.0/0]\n"));
  EXPECT_EQ(render(e.endpoint_policy(1)->entries), (std::vector<std::string>{eg(9, "ANY"), eg(kC8, "ANY")}));
  apply_all(e, cnp_x("spec:\n  endpointSelector: {}\n  egress:\n  - toEntities: [world]\n"));
  EXPECT_EQ(render(e.endpoint_policy(1)->entries),
            (std::vector<std::string>{eg(2, "ANY"), eg(9, "ANY"), eg(10, "ANY"), eg(kC8, "ANY"), eg(kC6, "ANY")}));
}

TEST(MapState, IcmpEchoReplyTypeZeroIsTheWildcardKey) {
  // Documented limitation shared with upstream: ICMP type 0 (IPv4 echo reply)
  // is stored as dport 0, which the datapath's lookup treats as "any type".
  PolicyEngine e;
  populate(e);
  apply_all(e, cnp_x("spec:\n  endpointSelector: {matchLabels: {pod: a}}\n  ingress:\n  - icmps: [{fields: [{type: EchoReply}]}]\n"));
  EXPECT_EQ(render(e.endpoint_policy(1)->entries), (std::vector<std::string>{in(0, "ICMP type 0")}));
  EXPECT_TRUE(flow(e, 2, 1, kProtoICMP, 13));
  EXPECT_TRUE(e.trace(model_pod_labels("x", 1), model_pod_labels("x", 0), kProtoICMP, 13).allowed);
  EXPECT_FALSE(flow(e, 2, 1, kProtoICMPv6, 128));
}
