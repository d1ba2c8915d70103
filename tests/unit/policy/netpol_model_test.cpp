// The Kubernetes network-policy e2e model (test/e2e/network/netpol): namespaces
// x, y, z with pods a, b, c serving TCP/UDP 80 and 81. Each case applies
// policies and checks the whole 9x9 reachability matrix, evaluated with the
// datapath's lookup rules over the computed policy maps (client egress and
// server ingress). Loopback (a pod to itself) is not checked.
#include <gtest/gtest.h>

#include <functional>

#include "world.h"

using namespace policy_test;

namespace {

const std::vector<std::string> kAll = {"x/a", "x/b", "x/c", "y/a", "y/b", "y/c", "z/a", "z/b", "z/c"};

bool pattern_match(const std::string& pat, const std::string& pod) {
  if (pat == "*") return true;
  auto s = pat.find('/');
  std::string ns = pat.substr(0, s), p = pat.substr(s + 1);
  return (ns == "*" || ns == pod.substr(0, 1)) && (p == "*" || p == pod.substr(2));
}

// Reachability expectations, like the e2e's Reachability.ExpectPeer.
class Reach {
 public:
  explicit Reach(bool def) {
    for (const auto& f : kAll)
      for (const auto& t : kAll) m_[{f, t}] = def;
  }
  Reach& expect(const std::string& from, const std::string& to, bool v) {
    for (const auto& f : kAll)
      for (const auto& t : kAll)
        if (pattern_match(from, f) && pattern_match(to, t)) m_[{f, t}] = v;
    return *this;
  }
  bool at(const std::string& f, const std::string& t) const { return m_.at({f, t}); }

 private:
  std::map<std::pair<std::string, std::string>, bool> m_;
};

uint16_t ep(const std::string& pod) { return ep_of(pod.substr(0, 1), pod.substr(2)); }

std::string check(const PolicyEngine& e, const Reach& r, uint8_t proto, uint16_t port) {
  std::string bad;
  for (const auto& f : kAll)
    for (const auto& t : kAll) {
      if (f == t) continue;
      bool got = flow(e, ep(f), ep(t), proto, port);
      if (got != r.at(f, t))
        bad += "  " + f + " -> " + t + ": expected " + (r.at(f, t) ? "allowed" : "denied") + ", got " +
               (got ? "allowed" : "denied") + "\n";
    }
  return bad;
}

std::string np(const std::string& name, const std::string& ns, const std::string& spec) {
  return "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: " + name + "\n  namespace: \"" + ns +
         "\"\nspec:\n" + spec;
}

struct Probe {
  uint8_t proto;
  uint16_t port;
  std::function<Reach()> expect;
};

struct NetpolCase {
  const char* name;
  std::string policies;
  std::vector<Probe> probes;
};

std::vector<NetpolCase> netpol_cases() {
  std::vector<NetpolCase> c;
  c.push_back({"DefaultDenyIngress", np("deny-ingress", "x", "  podSelector: {}\n  policyTypes: [Ingress]\n"),
               {{kProtoTCP, 80, [] { return Reach(true).expect("*", "x/*", false); }}}});
  c.push_back({"DefaultDenyAll", np("deny-all", "x", "  podSelector: {}\n  policyTypes: [Ingress, Egress]\n"),
               {{kProtoTCP, 80, [] { return Reach(true).expect("*", "x/*", false).expect("x/*", "*", false); }}}});
  c.push_back({"AllowFromPodInServerNamespace",
               np("allow-x-b", "x", "  podSelector: {matchLabels: {pod: a}}\n  ingress:\n  - from: [{podSelector: {matchLabels: {pod: b}}}]\n"),
               {{kProtoTCP, 80, [] { return Reach(true).expect("*", "x/a", false).expect("x/b", "x/a", true); }}}});
  c.push_back({"AllowFromOtherNamespace",
               np("allow-ns-y", "x", "  podSelector: {matchLabels: {pod: a}}\n  ingress:\n  - from: [{namespaceSelector: {matchLabels: {ns: \"y\"}}}]\n"),
               {{kProtoTCP, 80, [] { return Reach(true).expect("*", "x/a", false).expect("y/*", "x/a", true); }}}});
  c.push_back({"PodSelectorMatchExpressions",
               np("allow-in-b", "x", "  podSelector: {matchLabels: {pod: a}}\n  ingress:\n  - from: [{podSelector: {matchExpressions: [{key: pod, operator: In, values: [b]}]}}]\n"),
               {{kProtoTCP, 80, [] { return Reach(true).expect("*", "x/a", false).expect("x/b", "x/a", true); }}}});
  c.push_back({"NamespaceSelectorMatchExpressions",
               np("allow-ns-in-y", "x", "  podSelector: {matchLabels: {pod: a}}\n  ingress:\n  - from: [{namespaceSelector: {matchExpressions: [{key: ns, operator: In, values: [\"y\"]}]}}]\n"),
               {{kProtoTCP, 80, [] { return Reach(true).expect("*", "x/a", false).expect("y/*", "x/a", true); }}}});
  c.push_back({"PodSelectorOrNamespaceSelector",
               np("or", "x", "  podSelector: {matchLabels: {pod: a}}\n  ingress:\n  - from:\n    - namespaceSelector: {matchExpressions: [{key: ns, operator: NotIn, values: [x]}]}\n    - podSelector: {matchLabels: {pod: b}}\n"),
               {{kProtoTCP, 80, [] { return Reach(true).expect("x/c", "x/a", false); }}}});
  c.push_back({"PodSelectorAndNamespaceSelector",
               np("and", "x", "  podSelector: {matchLabels: {pod: a}}\n  ingress:\n  - from:\n    - namespaceSelector: {matchExpressions: [{key: ns, operator: NotIn, values: [x]}]}\n      podSelector: {matchLabels: {pod: b}}\n"),
               {{kProtoTCP, 80, [] {
                  return Reach(true).expect("*", "x/a", false).expect("y/b", "x/a", true).expect("z/b", "x/a", true);
                }}}});
  c.push_back({"MultiplePodAndNamespaceSelectors",
               np("multi", "x", "  podSelector: {matchLabels: {pod: a}}\n  ingress:\n  - from:\n    - namespaceSelector: {matchExpressions: [{key: ns, operator: NotIn, values: [x]}]}\n      podSelector: {matchExpressions: [{key: pod, operator: In, values: [b, c]}]}\n"),
               {{kProtoTCP, 80, [] {
                  return Reach(true).expect("*", "x/a", false).expect("y/b", "x/a", true).expect("y/c", "x/a", true)
                      .expect("z/b", "x/a", true).expect("z/c", "x/a", true);
                }}}});
  c.push_back({"AnyPodSelectors",
               np("any", "x", "  podSelector: {matchLabels: {pod: a}}\n  ingress:\n  - from:\n    - podSelector: {matchLabels: {pod: b}}\n    - podSelector: {matchLabels: {pod: c}}\n"),
               {{kProtoTCP, 80, [] {
                  return Reach(true).expect("*", "x/a", false).expect("x/b", "x/a", true).expect("x/c", "x/a", true);
                }}}});
  c.push_back({"Ports",
               np("ports", "x", "  podSelector: {matchLabels: {pod: a}}\n  ingress:\n  - from: [{namespaceSelector: {matchLabels: {ns: \"y\"}}}]\n    ports: [{port: 81, protocol: TCP}]\n"),
               {{kProtoTCP, 80, [] { return Reach(true).expect("*", "x/a", false); }},
                {kProtoTCP, 81, [] { return Reach(true).expect("*", "x/a", false).expect("y/*", "x/a", true); }}}});
  c.push_back({"IngressNamedPort",
               np("named", "x", "  podSelector: {matchLabels: {pod: a}}\n  ingress:\n  - ports: [{port: serve-81-tcp}]\n"),
               {{kProtoTCP, 81, [] { return Reach(true); }},
                {kProtoTCP, 80, [] { return Reach(true).expect("*", "x/a", false); }}}});
  c.push_back({"IngressNamedPortFromNamespace",
               np("named-ns", "x", "  podSelector: {matchLabels: {pod: a}}\n  ingress:\n  - from: [{namespaceSelector: {matchLabels: {ns: \"y\"}}}]\n    ports: [{port: serve-80-tcp}]\n"),
               {{kProtoTCP, 80, [] { return Reach(true).expect("*", "x/a", false).expect("y/*", "x/a", true); }},
                {kProtoTCP, 81, [] { return Reach(true).expect("*", "x/a", false); }}}});
  c.push_back({"AllowAll", np("allow-all", "x", "  podSelector: {}\n  ingress: [{}]\n"),
               {{kProtoTCP, 80, [] { return Reach(true); }}}});
  c.push_back({"StackedPolicies",
               np("p1", "x", "  podSelector: {matchLabels: {pod: a}}\n  ingress:\n  - from: [{podSelector: {matchLabels: {pod: b}}}]\n") + "---\n" +
                   np("p2", "x", "  podSelector: {matchLabels: {pod: a}}\n  ingress:\n  - from: [{namespaceSelector: {matchLabels: {ns: z}}}]\n"),
               {{kProtoTCP, 80, [] {
                  return Reach(true).expect("*", "x/a", false).expect("x/b", "x/a", true).expect("z/*", "x/a", true);
                }}}});
  c.push_back({"EgressNamedPort",
               np("egress-named", "x", "  podSelector: {matchLabels: {pod: a}}\n  policyTypes: [Egress]\n  egress:\n  - ports: [{port: serve-80-tcp}]\n"),
               {{kProtoTCP, 80, [] { return Reach(true); }},
                {kProtoTCP, 81, [] { return Reach(true).expect("x/a", "*", false); }}}});
  c.push_back({"EgressToPodInOtherNamespace",
               np("egress-y-a", "x", "  podSelector: {matchLabels: {pod: a}}\n  policyTypes: [Egress]\n  egress:\n  - to: [{namespaceSelector: {matchLabels: {ns: \"y\"}}, podSelector: {matchLabels: {pod: a}}}]\n"),
               {{kProtoTCP, 80, [] { return Reach(true).expect("x/a", "*", false).expect("x/a", "y/a", true); }}}});
  c.push_back({"UdpOnlyPolicyBlocksTcp",
               np("udp", "x", "  podSelector: {matchLabels: {pod: a}}\n  ingress:\n  - ports: [{port: 81, protocol: UDP}]\n"),
               {{kProtoTCP, 81, [] { return Reach(true).expect("*", "x/a", false); }},
                {kProtoUDP, 81, [] { return Reach(true); }},
                {kProtoUDP, 80, [] { return Reach(true).expect("*", "x/a", false); }}}});
  c.push_back({"SctpOnlyPolicyBlocksTcp",
               np("sctp", "x", "  podSelector: {matchLabels: {pod: a}}\n  ingress:\n  - ports: [{port: 80, protocol: SCTP}]\n"),
               {{kProtoTCP, 80, [] { return Reach(true).expect("*", "x/a", false); }},
                {kProtoSCTP, 80, [] { return Reach(true); }}}});
  c.push_back({"IngressAndEgressTogether",
               np("both", "x", "  podSelector: {matchLabels: {pod: a}}\n  policyTypes: [Ingress, Egress]\n  ingress:\n  - from: [{podSelector: {matchLabels: {pod: b}}}]\n  egress:\n  - to: [{podSelector: {matchLabels: {pod: b}}}]\n"),
               {{kProtoTCP, 80, [] {
                  return Reach(true).expect("*", "x/a", false).expect("x/b", "x/a", true).expect("x/a", "*", false)
                      .expect("x/a", "x/b", true);
                }}}});
  c.push_back({"ClientSideEgressDenyWinsOverServerAllow",
               np("egress-only-y", "x", "  podSelector: {matchLabels: {pod: a}}\n  policyTypes: [Egress]\n  egress:\n  - to: [{namespaceSelector: {matchLabels: {ns: \"y\"}}}]\n") + "---\n" +
                   np("allow-all-z", "z", "  podSelector: {}\n  ingress: [{}]\n"),
               {{kProtoTCP, 80, [] { return Reach(true).expect("x/a", "*", false).expect("x/a", "y/*", true); }}}});
  c.push_back({"DefaultNamespaceLabel",
               np("metadata-name", "x", "  podSelector: {matchLabels: {pod: a}}\n  ingress:\n  - from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: \"y\"}}}]\n"),
               {{kProtoTCP, 80, [] { return Reach(true).expect("*", "x/a", false).expect("y/*", "x/a", true); }}}});
  c.push_back({"IngressAllowAllTakesPrecedence",
               np("narrow", "x", "  podSelector: {matchLabels: {pod: a}}\n  ingress:\n  - from: [{podSelector: {matchLabels: {pod: b}}}]\n    ports: [{port: 80}]\n") + "---\n" +
                   np("allow-all", "x", "  podSelector: {matchLabels: {pod: a}}\n  ingress: [{}]\n"),
               {{kProtoTCP, 80, [] { return Reach(true); }}, {kProtoTCP, 81, [] { return Reach(true); }}}});
  c.push_back({"EgressAllowAllTakesPrecedence",
               np("narrow", "x", "  podSelector: {matchLabels: {pod: a}}\n  policyTypes: [Egress]\n  egress:\n  - ports: [{port: 80}]\n") + "---\n" +
                   np("allow-all", "x", "  podSelector: {matchLabels: {pod: a}}\n  policyTypes: [Egress]\n  egress: [{}]\n"),
               {{kProtoTCP, 81, [] { return Reach(true); }}}});
  c.push_back({"EgressDenyAllInNamespace", np("deny-egress", "x", "  podSelector: {}\n  policyTypes: [Egress]\n"),
               {{kProtoUDP, 80, [] { return Reach(true).expect("x/*", "*", false); }}}});
  c.push_back({"CiliumPolicyInModel",  // a CiliumNetworkPolicy written for the same model
               "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: c, namespace: \"y\"}\nspec:\n"
               "  endpointSelector: {}\n  ingress:\n  - fromEndpoints: [{matchLabels: {k8s:io.kubernetes.pod.namespace: z}}]\n"
               "    toPorts: [{ports: [{port: \"80\", protocol: TCP}]}]\n  ingressDeny:\n  - fromEndpoints: [{matchLabels: {k8s:io.kubernetes.pod.namespace: z, pod: c}}]\n",
               {{kProtoTCP, 80, [] { return Reach(true).expect("*", "y/*", false).expect("z/a", "y/*", true).expect("z/b", "y/*", true); }},
                {kProtoTCP, 81, [] { return Reach(true).expect("*", "y/*", false); }}}});
  return c;
}

class NetpolModel : public ::testing::TestWithParam<NetpolCase> {};

}  // namespace

TEST_P(NetpolModel, Reachability) {
  const NetpolCase& tc = GetParam();
  PolicyEngine e;
  populate(e);
  apply_all(e, tc.policies);
  for (const auto& p : tc.probes)
    EXPECT_EQ(check(e, p.expect(), p.proto, p.port), "") << proto_name(p.proto) << "/" << p.port;
}

INSTANTIATE_TEST_SUITE_P(K8sE2E, NetpolModel, ::testing::ValuesIn(netpol_cases()),
                         [](const ::testing::TestParamInfo<NetpolCase>& i) { return std::string(i.param.name); });

TEST(NetpolModelDynamic, NoPolicyAllowsEverything) {
  PolicyEngine e;
  populate(e);
  EXPECT_EQ(check(e, Reach(true), kProtoTCP, 80), "");
}

TEST(NetpolModelDynamic, StopEnforcingAfterDelete) {
  PolicyEngine e;
  populate(e);
  apply_all(e, np("deny-all", "x", "  podSelector: {}\n  policyTypes: [Ingress, Egress]\n"));
  EXPECT_EQ(check(e, Reach(true).expect("*", "x/*", false).expect("x/*", "*", false), kProtoTCP, 80), "");
  e.remove("NetworkPolicy", "x", "deny-all");
  EXPECT_EQ(check(e, Reach(true), kProtoTCP, 80), "");
}

TEST(NetpolModelDynamic, UpdatedPolicy) {
  PolicyEngine e;
  populate(e);
  apply_all(e, np("p", "x", "  podSelector: {matchLabels: {pod: a}}\n  ingress:\n  - from: [{podSelector: {matchLabels: {pod: b}}}]\n"));
  EXPECT_EQ(check(e, Reach(true).expect("*", "x/a", false).expect("x/b", "x/a", true), kProtoTCP, 80), "");
  apply_all(e, np("p", "x", "  podSelector: {matchLabels: {pod: a}}\n  ingress:\n  - from: [{podSelector: {matchLabels: {pod: c}}}]\n"));
  EXPECT_EQ(check(e, Reach(true).expect("*", "x/a", false).expect("x/c", "x/a", true), kProtoTCP, 80), "");
}

TEST(NetpolModelDynamic, PodRelabeledIntoPolicy) {
  // "should deny ingress access to updated pod": x/b loses the label the policy allows.
  PolicyEngine e;
  populate(e);
  apply_all(e, np("p", "x", "  podSelector: {matchLabels: {pod: a}}\n  ingress:\n  - from: [{podSelector: {matchLabels: {pod: b}}}]\n"));
  LabelSet relabeled = model_pod_labels("x", 1);
  relabeled.add(Label{"k8s", "pod", "b-renamed"});
  e.add_identity(300, relabeled);
  e.upsert_endpoint(ep("x/b"), 300, relabeled, model_ports(1));
  e.remove_identity(id_of("x", "b"));
  EXPECT_EQ(check(e, Reach(true).expect("*", "x/a", false), kProtoTCP, 80), "");
}

TEST(NetpolModelDynamic, NamespaceRelabeled) {
  // "should allow ingress access from updated namespace": z gains ns=y-like label.
  PolicyEngine e;
  populate(e);
  apply_all(e, np("p", "x", "  podSelector: {matchLabels: {pod: a}}\n  ingress:\n  - from: [{namespaceSelector: {matchLabels: {team: blue}}}]\n"));
  EXPECT_EQ(check(e, Reach(true).expect("*", "x/a", false), kProtoTCP, 80), "");
  for (int p = 0; p < 3; ++p) {  // namespace z labelled team=blue: new identities for its pods
    LabelSet ls = model_pod_labels("z", p);
    ls.add(Label{"k8s", "io.cilium.k8s.namespace.labels.team", "blue"});
    uint32_t nid = 400 + static_cast<uint32_t>(p);
    e.add_identity(nid, ls);
    e.upsert_endpoint(ep_of("z", kPods[p]), nid, ls, model_ports(p));
  }
  EXPECT_EQ(check(e, Reach(true).expect("*", "x/a", false).expect("z/*", "x/a", true), kProtoTCP, 80), "");
}
