// Parsing: upstream documentation examples (transcribed from cilium/cilium
// examples/policies/**, as included by Documentation/security/policy/*.rst)
// and one test per class of bad input, each naming the field path.
#include <gtest/gtest.h>

#include "policy/rules.h"
#include "test_util.h"

using namespace cpp::policy;
using namespace policy_test;

namespace {
Policy P(const std::string& y) { return parse_policy(yaml(y)); }
std::string E(const std::string& y) { return error_of(yaml(y)); }

const char* kHead = R"(apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata:
  name: p
  namespace: ns1
)";
std::string cnp(const std::string& spec) { return std::string(kHead) + spec; }
}  // namespace

// ---------------------------------------------------------------------------
// Documentation examples

TEST(DocExamples, SimpleIngressAllow) {  // l3/simple/l3.yaml
  Policy p = P(R"(apiVersion: "cilium.io/v2"
kind: CiliumNetworkPolicy
metadata:
  name: "l3-rule"
spec:
  endpointSelector:
    matchLabels:
      role: backend
  ingress:
  - fromEndpoints:
    - matchLabels:
        role: frontend
)");
  EXPECT_EQ(p.kind, PolicyKind::CiliumNetworkPolicy);
  EXPECT_EQ(p.ns, "default");
  EXPECT_EQ(p.name, "l3-rule");
  ASSERT_EQ(p.rules.size(), 1u);
  const Rule& r = p.rules[0];
  EXPECT_EQ(r.subject.str(), "{any:role=backend, k8s:io.kubernetes.pod.namespace=default}");
  EXPECT_TRUE(r.ingress_enforced);
  EXPECT_FALSE(r.egress_enforced);
  ASSERT_EQ(r.peer_rules.size(), 1u);
  const PeerRule& pr = r.peer_rules[0];
  EXPECT_EQ(pr.path, "spec.ingress[0]");
  EXPECT_EQ(pr.dir, Direction::Ingress);
  EXPECT_FALSE(pr.deny);
  EXPECT_FALSE(pr.wildcard);
  EXPECT_FALSE(pr.has_l4);
  ASSERT_EQ(pr.endpoints.size(), 1u);
  EXPECT_EQ(pr.endpoints[0].str(), "{any:role=frontend, k8s:io.kubernetes.pod.namespace=default}");
}

TEST(DocExamples, SimpleEgressAllow) {  // l3/simple/l3_egress.yaml
  Policy p = P(R"(apiVersion: "cilium.io/v2"
kind: CiliumNetworkPolicy
metadata:
  name: "l3-egress-rule"
spec:
  endpointSelector:
    matchLabels:
      role: frontend
  egress:
  - toEndpoints:
    - matchLabels:
        role: backend
)");
  EXPECT_FALSE(p.rules[0].ingress_enforced);
  EXPECT_TRUE(p.rules[0].egress_enforced);
  EXPECT_EQ(p.rules[0].peer_rules[0].dir, Direction::Egress);
}

TEST(DocExamples, IngressAllowAllIsNamespaceScoped) {  // l3/ingress-allow-all
  Policy p = P(R"(apiVersion: "cilium.io/v2"
kind: CiliumNetworkPolicy
metadata:
  name: "allow-all-to-victim"
  namespace: ns1
spec:
  endpointSelector:
    matchLabels:
      role: victim
  ingress:
  - fromEndpoints:
    - {}
)");
  const PeerRule& pr = p.rules[0].peer_rules[0];
  EXPECT_FALSE(pr.wildcard);
  EXPECT_EQ(pr.endpoints[0].str(), "{k8s:io.kubernetes.pod.namespace=ns1}");
}

TEST(DocExamples, EgressDefaultDeny) {  // l3/egress-default-deny (egress: [{}])
  Policy p = P(R"(apiVersion: "cilium.io/v2"
kind: CiliumNetworkPolicy
metadata:
  name: "deny-all-egress"
spec:
  endpointSelector:
    matchLabels:
      role: restricted
  egress:
  - {}
)");
  EXPECT_TRUE(p.rules[0].egress_enforced);
  ASSERT_EQ(p.rules[0].peer_rules.size(), 1u);
  EXPECT_TRUE(p.rules[0].peer_rules[0].selects_nothing());
}

TEST(DocExamples, EmptyEgressListDoesNotEnforce) {
  Policy p = P(cnp("spec:\n  endpointSelector: {}\n  egress: []\n"));
  EXPECT_FALSE(p.rules[0].egress_enforced);
  Policy q = P(cnp("spec:\n  endpointSelector: {}\n  egress:\n"));  // null
  EXPECT_FALSE(q.rules[0].egress_enforced);
}

TEST(DocExamples, EgressDeny) {  // l3/egress-deny/egress-deny.yaml
  Policy p = P(R"(apiVersion: "cilium.io/v2"
kind: CiliumNetworkPolicy
metadata:
  name: "deny-egress-example"
spec:
  endpointSelector:
    matchLabels:
      role: frontend
  egress:
  - toEntities:
    - all
  egressDeny:
  - toEndpoints:
    - matchLabels:
        role: backend
)");
  ASSERT_EQ(p.rules[0].peer_rules.size(), 2u);
  EXPECT_EQ(p.rules[0].peer_rules[0].entities, std::vector<std::string>{"all"});
  EXPECT_TRUE(p.rules[0].peer_rules[1].deny);
  EXPECT_EQ(p.rules[0].peer_rules[1].path, "spec.egressDeny[0]");
}

TEST(DocExamples, FromWorldDenyClusterwide) {  // l3/entities/from_world_deny.yaml
  Policy p = P(R"(apiVersion: "cilium.io/v2"
kind: CiliumClusterwideNetworkPolicy
metadata:
  name: "external-lockdown"
spec:
  endpointSelector: {}
  ingressDeny:
  - fromEntities:
    - "world"
  ingress:
  - fromEntities:
    - "all"
)");
  EXPECT_EQ(p.kind, PolicyKind::CiliumClusterwideNetworkPolicy);
  EXPECT_EQ(p.ns, "");
  EXPECT_TRUE(p.rules[0].subject.empty());  // cluster-wide: no namespace scoping
  EXPECT_EQ(p.display(), "CiliumClusterwideNetworkPolicy external-lockdown");
}

TEST(DocExamples, Cidr) {  // l3/cidr/cidr.yaml
  Policy p = P(R"(apiVersion: "cilium.io/v2"
kind: CiliumNetworkPolicy
metadata:
  name: "cidr-rule"
spec:
  endpointSelector:
    matchLabels:
      app: myService
  egress:
  - toCIDR:
    - 20.1.1.1/32
  - toCIDRSet:
    - cidr: 10.0.0.0/8
      except:
      - 10.96.0.0/12
)");
  const auto& prs = p.rules[0].peer_rules;
  ASSERT_EQ(prs.size(), 2u);
  EXPECT_EQ(prs[0].cidrs[0].prefix.str(), "20.1.1.1/32");
  EXPECT_EQ(prs[1].cidrs[0].prefix.str(), "10.0.0.0/8");
  EXPECT_EQ(prs[1].cidrs[0].except[0].str(), "10.96.0.0/12");
  ResolvedPeers rp = resolve_peers(prs[1], {});
  ASSERT_EQ(rp.others.size(), 1u);
  EXPECT_EQ(rp.others[0].str(), "{cidr:10.0.0.0/8 exists, !cidr:10.96.0.0/12}");
}

TEST(DocExamples, Icmp) {  // l4/icmp.yaml
  Policy p = P(R"(apiVersion: "cilium.io/v2"
kind: CiliumNetworkPolicy
metadata:
  name: "icmp-rule"
spec:
  endpointSelector:
    matchLabels:
      app: myService
  egress:
  - icmps:
    - fields:
      - type: 8
        family: IPv4
      - type: EchoRequest
        family: IPv6
)");
  const PeerRule& pr = p.rules[0].peer_rules[0];
  EXPECT_TRUE(pr.wildcard);
  EXPECT_TRUE(pr.has_l4);
  ASSERT_EQ(pr.ports.size(), 2u);
  EXPECT_EQ(pr.ports[0], (PortProto{kProtoICMP, 8, 0, ""}));
  EXPECT_EQ(pr.ports[1], (PortProto{kProtoICMPv6, 128, 0, ""}));
}

TEST(DocExamples, L4OnlyIsWildcardAndAnyExpands) {  // l4/l4.yaml and ANY
  Policy p = P(R"(apiVersion: "cilium.io/v2"
kind: CiliumNetworkPolicy
metadata:
  name: "l4-rule"
spec:
  endpointSelector:
    matchLabels:
      app: myService
  egress:
    - toPorts:
      - ports:
        - port: "80"
          protocol: TCP
    - toPorts:
      - ports:
        - port: "53"
)");
  const auto& prs = p.rules[0].peer_rules;
  EXPECT_TRUE(prs[0].wildcard);
  EXPECT_EQ(prs[0].ports, (std::vector<PortProto>{{kProtoTCP, 80, 0, ""}}));
  EXPECT_EQ(prs[1].ports, (std::vector<PortProto>{{kProtoTCP, 53, 0, ""}, {kProtoUDP, 53, 0, ""}, {kProtoSCTP, 53, 0, ""}}));
}

TEST(DocExamples, PortRange) {  // l4/l4_port_range.yaml
  Policy p = P(R"(apiVersion: "cilium.io/v2"
kind: CiliumNetworkPolicy
metadata:
  name: "l4-port-range-rule"
spec:
  endpointSelector:
    matchLabels:
      app: myService
  egress:
    - toPorts:
      - ports:
        - port: "80"
          endPort: 444
          protocol: TCP
)");
  EXPECT_EQ(p.rules[0].peer_rules[0].ports, (std::vector<PortProto>{{kProtoTCP, 80, 444, ""}}));
}

TEST(DocExamples, L3L4CombinedAndCidrL4) {  // l4/l3_l4_combined.yaml, l4/cidr_l4_combined.yaml
  Policy p = P(R"(apiVersion: "cilium.io/v2"
kind: CiliumNetworkPolicy
metadata:
  name: "l4-rule"
spec:
  endpointSelector:
    matchLabels:
      role: backend
  ingress:
  - fromEndpoints:
    - matchLabels:
        role: frontend
    toPorts:
    - ports:
      - port: "80"
        protocol: TCP
)");
  EXPECT_FALSE(p.rules[0].peer_rules[0].wildcard);
  EXPECT_TRUE(p.rules[0].peer_rules[0].has_l4);
  Policy q = P(R"(apiVersion: "cilium.io/v2"
kind: CiliumNetworkPolicy
metadata:
  name: "cidr-l4-rule"
spec:
  endpointSelector:
    matchLabels:
      role: crawler
  egress:
  - toCIDR:
    - 192.0.2.0/24
    toPorts:
    - ports:
      - port: "80"
        protocol: TCP
)");
  EXPECT_EQ(q.rules[0].peer_rules[0].cidrs[0].prefix.str(), "192.0.2.0/24");
}

TEST(DocExamples, IsolateNamespacesTwoDocuments) {  // kubernetes/namespace/isolate-namespaces.yaml
  auto docs = yamls(R"(apiVersion: "cilium.io/v2"
kind: CiliumNetworkPolicy
metadata:
  name: "isolate-ns1"
  namespace: ns1
spec:
  endpointSelector:
    matchLabels:
      {}
  ingress:
  - fromEndpoints:
    - matchLabels:
        {}
---
apiVersion: "cilium.io/v2"
kind: CiliumNetworkPolicy
metadata:
  name: "isolate-ns1"
  namespace: ns2
spec:
  endpointSelector:
    matchLabels:
      {}
  ingress:
  - fromEndpoints:
    - matchLabels:
        {}
)");
  ASSERT_EQ(docs.size(), 2u);
  Policy a = parse_policy(docs[0]), b = parse_policy(docs[1]);
  EXPECT_EQ(a.rules[0].subject.str(), "{k8s:io.kubernetes.pod.namespace=ns1}");
  EXPECT_EQ(b.rules[0].peer_rules[0].endpoints[0].str(), "{k8s:io.kubernetes.pod.namespace=ns2}");
}

TEST(DocExamples, ExposeAcrossNamespaces) {  // kubernetes/namespace/namespace-policy.yaml
  Policy p = P(R"(apiVersion: "cilium.io/v2"
kind: CiliumNetworkPolicy
metadata:
  name: "k8s-expose-across-namespace"
  namespace: ns1
spec:
  endpointSelector:
    matchLabels:
      name: leia
  ingress:
  - fromEndpoints:
    - matchLabels:
        k8s:io.kubernetes.pod.namespace: ns2
        name: luke
)");
  EXPECT_EQ(p.rules[0].peer_rules[0].endpoints[0].str(), "{any:name=luke, k8s:io.kubernetes.pod.namespace=ns2}");
}

TEST(DocExamples, KubeDnsAndServiceAccount) {  // kubedns-policy.yaml, serviceaccount-policy.yaml
  Policy p = P(R"(apiVersion: "cilium.io/v2"
kind: CiliumNetworkPolicy
metadata:
  name: "allow-to-kubedns"
  namespace: public
spec:
  endpointSelector:
    {}
  egress:
  - toEndpoints:
    - matchLabels:
        k8s:io.kubernetes.pod.namespace: kube-system
        k8s-app: kube-dns
    toPorts:
    - ports:
      - port: '53'
        protocol: UDP
)");
  EXPECT_EQ(p.rules[0].subject.str(), "{k8s:io.kubernetes.pod.namespace=public}");
  EXPECT_EQ(p.rules[0].peer_rules[0].endpoints[0].str(),
            "{any:k8s-app=kube-dns, k8s:io.kubernetes.pod.namespace=kube-system}");
  Policy s = P(R"(apiVersion: "cilium.io/v2"
kind: CiliumNetworkPolicy
metadata:
  name: "k8s-svc-account"
spec:
  endpointSelector:
    matchLabels:
      io.cilium.k8s.policy.serviceaccount: leia
  ingress:
  - fromEndpoints:
    - matchLabels:
        io.cilium.k8s.policy.serviceaccount: luke
)");
  EXPECT_EQ(s.rules[0].peer_rules[0].endpoints[0].str(),
            "{any:io.cilium.k8s.policy.serviceaccount=luke, k8s:io.kubernetes.pod.namespace=default}");
}

TEST(DocExamples, ClusterwideWildcardFromEndpoints) {  // kubernetes/clusterwide/wildcard-from-endpoints.yaml
  Policy p = P(R"(apiVersion: "cilium.io/v2"
kind: CiliumClusterwideNetworkPolicy
description: "Policy for ingress allow to kube-dns from all Cilium managed endpoints in the cluster"
metadata:
  name: "wildcard-from-endpoints"
spec:
  endpointSelector:
    matchLabels:
      k8s:io.kubernetes.pod.namespace: kube-system
      k8s-app: kube-dns
  ingress:
  - fromEndpoints:
    - {}
    toPorts:
    - ports:
      - port: "53"
        protocol: UDP
)");
  // Cluster-wide {} peer: every pod of every namespace (namespace label exists), not the world.
  EXPECT_EQ(p.rules[0].peer_rules[0].endpoints[0].str(), "{k8s:io.kubernetes.pod.namespace exists}");
  EXPECT_EQ(p.rules[0].subject.str(), "{any:k8s-app=kube-dns, k8s:io.kubernetes.pod.namespace=kube-system}");
}

TEST(DocExamples, ClusterwideScopeAndHealth) {  // clusterscope-policy.yaml, health.yaml
  Policy p = P(R"(apiVersion: "cilium.io/v2"
kind: CiliumClusterwideNetworkPolicy
metadata:
  name: "clusterwide-policy-example"
spec:
  description: "Policy for selective ingress allow to a pod from only a pod with given label"
  endpointSelector:
    matchLabels:
      name: leia
  ingress:
  - fromEndpoints:
    - matchLabels:
        name: luke
)");
  EXPECT_EQ(p.rules[0].description, "Policy for selective ingress allow to a pod from only a pod with given label");
  EXPECT_EQ(p.rules[0].subject.str(), "{any:name=leia}");
  EXPECT_EQ(p.rules[0].peer_rules[0].endpoints[0].str(), "{any:name=luke, k8s:io.kubernetes.pod.namespace exists}");
  Policy h = P(R"(apiVersion: "cilium.io/v2"
kind: CiliumClusterwideNetworkPolicy
metadata:
  name: "cilium-health-checks"
spec:
  endpointSelector:
    matchLabels:
      'reserved:health': ''
  ingress:
    - fromEntities:
      - remote-node
  egress:
    - toEntities:
      - remote-node
)");
  EXPECT_EQ(h.rules[0].subject.str(), "{reserved:health}");
  EXPECT_TRUE(h.rules[0].ingress_enforced && h.rules[0].egress_enforced);
}

TEST(DocExamples, EntitiesAndInit) {  // entities/world.yaml, apiserver.yaml, host.yaml, nodes.yaml, l4/from_init.yaml
  Policy w = P(R"(apiVersion: "cilium.io/v2"
kind: CiliumNetworkPolicy
metadata:
  name: "from-world-to-role-public"
spec:
  endpointSelector:
    matchLabels:
      role: public
  ingress:
    - fromEntities:
      - world
)");
  auto rp = resolve_peers(w.rules[0].peer_rules[0], {});
  ASSERT_EQ(rp.others.size(), 3u);
  EXPECT_EQ(rp.others[0].str(), "{reserved:world}");
  Policy n = P(R"(apiVersion: "cilium.io/v2"
kind: CiliumNetworkPolicy
metadata:
  name: "to-dev-from-nodes-in-cluster"
spec:
  endpointSelector:
    matchLabels:
      env: dev
  ingress:
    - fromEntities:
      - host
      - remote-node
)");
  EXPECT_EQ(resolve_peers(n.rules[0].peer_rules[0], {}).others.size(), 2u);
  Policy none = P(R"(apiVersion: "cilium.io/v2"
kind: CiliumNetworkPolicy
metadata:
  name: "default-deny-only"
spec:
  endpointSelector: {}
  ingress:
    - fromEntities:
      - none
)");
  auto np = resolve_peers(none.rules[0].peer_rules[0], {});
  EXPECT_TRUE(np.others.empty());  // upstream's "none": selects nothing
  EXPECT_FALSE(np.wildcard);
  Policy i = P(R"(apiVersion: "cilium.io/v2"
kind: CiliumNetworkPolicy
metadata:
  name: "from-init"
spec:
  endpointSelector:
    matchLabels:
      app: myService
  ingress:
    - fromEntities:
      - init
    - toPorts:
      - ports:
        - port: "53"
          protocol: UDP
)");
  EXPECT_EQ(i.rules[0].peer_rules.size(), 2u);
  EXPECT_TRUE(i.rules[0].peer_rules[1].wildcard);
}

TEST(DocExamples, ClusterEntityUsesClusterName) {
  Policy p = P(cnp("spec:\n  endpointSelector: {}\n  egress:\n  - toEntities: [cluster]\n"));
  ResolveContext ctx;
  ctx.cluster_name = "c1";
  auto rp = resolve_peers(p.rules[0].peer_rules[0], ctx);
  std::vector<std::string> s;
  for (const auto& x : rp.others) s.push_back(x.str());
  EXPECT_EQ(s, (std::vector<std::string>{"{k8s:io.cilium.k8s.policy.cluster=c1}", "{reserved:health}",
                                         "{reserved:host}", "{reserved:ingress}", "{reserved:init}",
                                         "{reserved:kube-apiserver}", "{reserved:remote-node}",
                                         "{reserved:unmanaged}"}));
}

TEST(DocExamples, RequiresAndEndpoints) {  // l3/requires/requires.yaml + endpoints.yaml
  Policy r = P(R"(apiVersion: "cilium.io/v2"
kind: CiliumNetworkPolicy
description: "For endpoints with env=prod, only allow if source also has label env=prod"
metadata:
  name: "requires-rule"
specs:
  - endpointSelector:
      matchLabels:
        env: prod
    ingress:
    - fromRequires:
      - matchLabels:
          env: prod
)");
  EXPECT_EQ(r.rules[0].path, "specs[0]");
  EXPECT_EQ(r.rules[0].peer_rules[0].requires_[0].str(), "{any:env=prod, k8s:io.kubernetes.pod.namespace=default}");
  EXPECT_TRUE(r.rules[0].peer_rules[0].selects_nothing());
  EXPECT_TRUE(r.rules[0].ingress_enforced);
}

TEST(DocExamples, CidrGroup) {  // network/kubernetes/ciliumcidrgroup
  CidrGroup g = parse_cidr_group(yaml(R"(apiVersion: cilium.io/v2alpha1
kind: CiliumCIDRGroup
metadata:
  name: vpn-example-1
  labels:
    role: vpn
spec:
  externalCIDRs:
    - "10.48.0.0/24"
    - "10.16.0.0/24"
)"));
  EXPECT_EQ(g.name, "vpn-example-1");
  EXPECT_EQ(g.labels.at("role"), "vpn");
  ASSERT_EQ(g.cidrs.size(), 2u);
  Policy p = P(R"(apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata:
  name: from-vpn-example
spec:
  endpointSelector: {}
  ingress:
  - fromCIDRSet:
    - cidrGroupRef: vpn-example-1
  - fromCIDRSet:
    - cidrGroupSelector:
        matchLabels:
          role: vpn
)");
  EXPECT_EQ(p.cidr_group_names(), std::vector<std::string>{"vpn-example-1"});
  EXPECT_TRUE(p.uses_cidr_group_selectors());
  std::map<std::string, CidrGroup> groups{{g.name, g}};
  ResolveContext ctx;
  ctx.cidr_groups = &groups;
  EXPECT_EQ(resolve_peers(p.rules[0].peer_rules[0], ctx).others.size(), 2u);
  EXPECT_EQ(resolve_peers(p.rules[0].peer_rules[1], ctx).others.size(), 2u);
  EXPECT_EQ(resolve_peers(p.rules[0].peer_rules[0], {}).others.size(), 0u);  // missing group: selects nothing
}

TEST(DocExamples, SpecAndSpecsTogether) {
  Policy p = P(cnp(R"(spec:
  endpointSelector: {}
  ingress: [{}]
specs:
- endpointSelector: {matchLabels: {a: b}}
  egress: [{}]
- endpointSelector: {matchLabels: {c: d}}
)"));
  ASSERT_EQ(p.rules.size(), 3u);
  EXPECT_EQ(p.rules[2].path, "specs[1]");
}

TEST(DocExamples, InitSubjectIsNotNamespaceScoped) {
  Policy p = P(cnp(R"(spec:
  endpointSelector:
    matchLabels:
      reserved:init: ""
  egress:
  - toEndpoints:
    - matchLabels:
        app: dns
)"));
  EXPECT_EQ(p.rules[0].subject.str(), "{reserved:init}");
  EXPECT_EQ(p.rules[0].peer_rules[0].endpoints[0].str(), "{any:app=dns}");
}

TEST(DocExamples, ReservedPeerNotScoped) {
  Policy p = P(cnp(R"(spec:
  endpointSelector: {}
  ingress:
  - fromEndpoints:
    - matchLabels:
        reserved:remote-node: ""
    - matchExpressions:
      - key: io.kubernetes.pod.namespace
        operator: Exists
)"));
  EXPECT_EQ(p.rules[0].peer_rules[0].endpoints[0].str(), "{reserved:remote-node}");
  EXPECT_EQ(p.rules[0].peer_rules[0].endpoints[1].str(), "{any:io.kubernetes.pod.namespace exists}");
}

TEST(DocExamples, EndpointSelectorCannotEscapeNamespace) {
  Policy p = P(cnp(R"(spec:
  endpointSelector:
    matchLabels:
      k8s:io.kubernetes.pod.namespace: other
  ingress: [{}]
)"));
  EXPECT_EQ(p.rules[0].subject.str(), "{k8s:io.kubernetes.pod.namespace=ns1}");
}

TEST(DocExamples, BareIpInToCIDRAndHostBitsMasked) {
  Policy p = P(cnp("spec:\n  endpointSelector: {}\n  egress:\n  - toCIDR: [\"192.0.2.1\", \"2001:db8::1\", \"10.1.2.3/8\"]\n"));
  const auto& c = p.rules[0].peer_rules[0].cidrs;
  EXPECT_EQ(c[0].prefix.str(), "192.0.2.1/32");
  EXPECT_EQ(c[1].prefix.str(), "2001:db8::1/128");
  EXPECT_EQ(c[2].prefix.str(), "10.0.0.0/8");
}

TEST(DocExamples, NamedPortsLowerCased) {
  Policy p = P(cnp(R"(spec:
  endpointSelector: {}
  ingress:
  - toPorts:
    - ports:
      - port: HTTP-Alt
        protocol: TCP
)"));
  EXPECT_EQ(p.rules[0].peer_rules[0].ports[0].name, "http-alt");
  EXPECT_TRUE(p.rules[0].peer_rules[0].has_named_ports());
}

TEST(DocExamples, EmptyL7RulesAccepted) {
  Policy p = P(cnp(R"(spec:
  endpointSelector: {}
  ingress:
  - toPorts:
    - ports: [{port: "80", protocol: TCP}]
      rules: {}
)"));
  EXPECT_EQ(p.rules[0].peer_rules[0].ports.size(), 1u);
}

// ---------------------------------------------------------------------------
// Kubernetes NetworkPolicy translation

TEST(K8sNetworkPolicy, DefaultPolicyTypesAndPeers) {
  Policy p = P(R"(apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: test-network-policy
  namespace: default
spec:
  podSelector:
    matchLabels:
      role: db
  ingress:
  - from:
    - ipBlock:
        cidr: 172.17.0.0/16
        except:
        - 172.17.1.0/24
    - namespaceSelector:
        matchLabels:
          project: myproject
    - podSelector:
        matchLabels:
          role: frontend
    - namespaceSelector:
        matchLabels:
          team: a
      podSelector:
        matchLabels:
          role: client
    ports:
    - protocol: TCP
      port: 6379
  egress:
  - to:
    - ipBlock:
        cidr: 10.0.0.0/24
    ports:
    - protocol: TCP
      port: 5978
)");
  EXPECT_EQ(p.kind, PolicyKind::NetworkPolicy);
  const Rule& r = p.rules[0];
  EXPECT_EQ(r.subject.str(), "{k8s:io.kubernetes.pod.namespace=default, k8s:role=db}");
  EXPECT_TRUE(r.ingress_enforced);
  EXPECT_TRUE(r.egress_enforced);  // egress rules present → Egress defaulted
  ASSERT_EQ(r.peer_rules.size(), 2u);
  const PeerRule& in = r.peer_rules[0];
  EXPECT_EQ(in.path, "spec.ingress[0]");
  ASSERT_EQ(in.endpoints.size(), 3u);
  EXPECT_EQ(in.endpoints[0].str(), "{k8s:io.cilium.k8s.namespace.labels.project=myproject}");
  EXPECT_EQ(in.endpoints[1].str(), "{k8s:io.kubernetes.pod.namespace=default, k8s:role=frontend}");
  EXPECT_EQ(in.endpoints[2].str(), "{k8s:io.cilium.k8s.namespace.labels.team=a, k8s:role=client}");
  EXPECT_EQ(in.cidrs[0].prefix.str(), "172.17.0.0/16");
  EXPECT_EQ(in.ports, (std::vector<PortProto>{{kProtoTCP, 6379, 0, ""}}));
}

TEST(K8sNetworkPolicy, PolicyTypesAndEmptyFrom) {
  Policy p = P(R"(apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-all-ingress, namespace: x}
spec:
  podSelector: {}
  ingress:
  - {}
  policyTypes:
  - Ingress
)");
  EXPECT_TRUE(p.rules[0].peer_rules[0].wildcard);
  EXPECT_FALSE(p.rules[0].peer_rules[0].has_l4);
  Policy d = P(R"(apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny-egress, namespace: x}
spec:
  podSelector: {}
  policyTypes:
  - Egress
)");
  EXPECT_FALSE(d.rules[0].ingress_enforced);
  EXPECT_TRUE(d.rules[0].egress_enforced);
  EXPECT_TRUE(d.rules[0].peer_rules.empty());
  // Rules of a direction not in policyTypes are ignored.
  Policy e = P(R"(apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: only-egress, namespace: x}
spec:
  podSelector: {}
  policyTypes: [Egress]
  ingress: [{}]
)");
  EXPECT_TRUE(e.rules[0].peer_rules.empty());
}

TEST(K8sNetworkPolicy, EmptyNamespaceSelectorIsAllNamespaces) {
  Policy p = P(R"(apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: x}
spec:
  podSelector: {}
  ingress:
  - from:
    - namespaceSelector: {}
      podSelector: {matchLabels: {pod: b}}
    ports:
    - port: serve-80-tcp
    - protocol: UDP
)");
  const PeerRule& r = p.rules[0].peer_rules[0];
  EXPECT_EQ(r.endpoints[0].str(), "{k8s:io.kubernetes.pod.namespace exists, k8s:pod=b}");
  EXPECT_EQ(r.ports, (std::vector<PortProto>{{kProtoTCP, 0, 0, "serve-80-tcp"}, {kProtoUDP, 0, 0, ""}}));
}

TEST(K8sNetworkPolicy, Errors) {
  auto np = [](const std::string& spec) {
    return std::string("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p}\n") + spec;
  };
  EXPECT_EQ(E(np("spec:\n  podSelector: {}\n  ingress:\n  - from:\n    - {}\n")),
            "spec.ingress[0].from[0]: must specify a peer: podSelector, namespaceSelector or ipBlock");
  EXPECT_EQ(E(np("spec:\n  podSelector: {}\n  ingress:\n  - from:\n    - ipBlock: {cidr: 10.0.0.0/8}\n      podSelector: {}\n")),
            "spec.ingress[0].from[0]: ipBlock may not be combined with podSelector or namespaceSelector");
  EXPECT_EQ(E(np("spec:\n  podSelector: {}\n  ingress:\n  - ports:\n    - port: 0\n")),
            "spec.ingress[0].ports[0].port: 0 is not a valid port (1-65535)");
  EXPECT_EQ(E(np("spec:\n  podSelector: {}\n  ingress:\n  - ports:\n    - protocol: tcp\n      port: 80\n")),
            "spec.ingress[0].ports[0].protocol: \"tcp\" is not a valid protocol (TCP, UDP or SCTP)");
  EXPECT_EQ(E(np("spec:\n  podSelector: {}\n  egress:\n  - ports:\n    - port: 80\n      endPort: 79\n")),
            "spec.egress[0].ports[0].endPort: 79 must be between port and 65535");
  EXPECT_EQ(E(np("spec:\n  podSelector: {}\n  policyTypes: [ingress]\n")),
            "spec.policyTypes[0]: \"ingress\" is not a valid policy type (Ingress or Egress)");
  EXPECT_EQ(E(np("spec:\n  podSelector: {}\n  ingress:\n  - from:\n    - ipBlock: {cidr: 10.0.0.0/8, except: [10.0.0.0/8]}\n")),
            "spec.ingress[0].from[0].ipBlock.except[0]: must be a strict subset of cidr 10.0.0.0/8");
  EXPECT_EQ(E(np("spec:\n  podSelector: {}\n  ingress:\n  - from:\n    - podSelector:\n        matchExpressions:\n        - {key: a, operator: In, values: []}\n")),
            "spec.ingress[0].from[0].podSelector.matchExpressions[0].values: must be non-empty for operator In "
            "(the selector could never match)");
  EXPECT_EQ(E(np("spec:\n  podSelectr: {}\n")), "spec.podSelectr: unknown field (did you mean \"podSelector\"?)");
}

// ---------------------------------------------------------------------------
// Bad input: one test per class, each with the field path.

TEST(ParseErrors, UnknownFields) {
  EXPECT_EQ(E(cnp("spec:\n  endpointSelector: {}\n  ingres: []\n")),
            "spec.ingres: unknown field (did you mean \"ingress\"?)");
  EXPECT_EQ(E(cnp("spec:\n  endpointSelector: {}\n  ingress:\n  - fromEndpoint: [{}]\n")),
            "spec.ingress[0].fromEndpoint: unknown field (did you mean \"fromEndpoints\"?)");
  EXPECT_EQ(E(cnp("spec:\n  endpointSelector: {}\n  ingress:\n  - toPorts:\n    - ports:\n      - port: \"80\"\n        proto: TCP\n")),
            "spec.ingress[0].toPorts[0].ports[0].proto: unknown field (did you mean \"protocol\"?)");
  EXPECT_EQ(E(cnp("spec:\n  endpointSelector: {}\n  ingressDeny:\n  - toPorts:\n    - ports: [{port: \"80\"}]\n      rules: {}\n")),
            "spec.ingressDeny[0].toPorts[0].rules: unknown field");
  EXPECT_EQ(E(cnp("spec:\n  endpointSelector: {}\nextra: 1\n")), "extra: unknown field");
}

TEST(ParseErrors, WrongTypes) {
  EXPECT_EQ(E(cnp("spec:\n  endpointSelector: {}\n  ingress: {}\n")), "spec.ingress: must be a list (got mapping)");
  EXPECT_EQ(E(cnp("spec:\n  endpointSelector: []\n")), "spec.endpointSelector: must be a mapping (got list)");
  EXPECT_EQ(E(cnp("spec:\n  endpointSelector: {}\n  ingress:\n  - toPorts:\n    - ports:\n      - port: 80\n")),
            "spec.ingress[0].toPorts[0].ports[0].port: must be a string (got number; write \"80\")");
  EXPECT_EQ(E(cnp("spec:\n  endpointSelector: {}\n  egress:\n  - toEntities: world\n")),
            "spec.egress[0].toEntities: must be a list (got string)");
  EXPECT_EQ(E(cnp("spec:\n  endpointSelector: {}\n  egress:\n  - toCIDR: [1]\n")),
            "spec.egress[0].toCIDR[0]: must be a string (got number)");
  EXPECT_EQ(E(cnp("spec: 5\n")), "spec: must be a mapping (got number)");
  EXPECT_EQ(E(cnp("specs: {}\n")), "specs: must be a list (got mapping)");
}

TEST(ParseErrors, MissingPieces) {
  EXPECT_EQ(E(cnp("spec:\n  ingress: []\n")), "spec.endpointSelector: required");
  EXPECT_EQ(E(cnp("status: {}\n")), "spec: required (or specs)");
  EXPECT_EQ(E(cnp("spec:\n  endpointSelector: {}\n  ingress:\n  - toPorts:\n    - ports:\n      - protocol: TCP\n")),
            "spec.ingress[0].toPorts[0].ports[0].port: required (a port number or name; \"0\" for every port)");
  EXPECT_EQ(E("apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nspec: {}\n"), "metadata: required");
  EXPECT_EQ(E("apiVersion: cilium.io/v1\nkind: CiliumNetworkPolicy\nmetadata: {name: a}\nspec: {endpointSelector: {}}\n"),
            "apiVersion: \"cilium.io/v1\" does not serve this kind (expected cilium.io/v2)");
  EXPECT_EQ(E("apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n"), "kind: \"Pod\" is not a policy kind");
}

TEST(ParseErrors, InvalidCidrs) {
  EXPECT_EQ(E(cnp("spec:\n  endpointSelector: {}\n  egress:\n  - toCIDR: [\"10.0.0.300/8\"]\n")),
            "spec.egress[0].toCIDR[0]: \"10.0.0.300/8\" is not a valid CIDR");
  EXPECT_EQ(E(cnp("spec:\n  endpointSelector: {}\n  egress:\n  - toCIDR: [\"banana\"]\n")),
            "spec.egress[0].toCIDR[0]: \"banana\" is not a valid IP address or CIDR");
  EXPECT_EQ(E(cnp("spec:\n  endpointSelector: {}\n  egress:\n  - toCIDRSet:\n    - cidr: 10.0.0.0/33\n")),
            "spec.egress[0].toCIDRSet[0].cidr: \"10.0.0.0/33\" is not a valid CIDR (<address>/<length>)");
  EXPECT_EQ(E(cnp("spec:\n  endpointSelector: {}\n  egress:\n  - toCIDRSet:\n    - cidr: 10.0.0.1\n")),
            "spec.egress[0].toCIDRSet[0].cidr: \"10.0.0.1\" is not a valid CIDR (<address>/<length>)");
  EXPECT_EQ(E(cnp("spec:\n  endpointSelector: {}\n  egress:\n  - toCIDRSet:\n    - cidr: 10.0.0.0/8\n      except: [192.168.0.0/16]\n")),
            "spec.egress[0].toCIDRSet[0].except[0]: allow CIDR prefix 10.0.0.0/8 does not contain exclude CIDR "
            "prefix 192.168.0.0/16");
  EXPECT_EQ(E(cnp("spec:\n  endpointSelector: {}\n  egress:\n  - toCIDRSet:\n    - cidr: 10.0.0.0/8\n      except: [\"2001:db8::/32\"]\n")),
            "spec.egress[0].toCIDRSet[0].except[0]: allow CIDR prefix 10.0.0.0/8 does not contain exclude CIDR "
            "prefix 2001:db8::/32");
  EXPECT_EQ(E(cnp("spec:\n  endpointSelector: {}\n  egress:\n  - toCIDRSet:\n    - except: [10.0.0.0/9]\n")),
            "spec.egress[0].toCIDRSet[0]: one of cidr, cidrGroupRef or cidrGroupSelector is required");
  EXPECT_EQ(E(cnp("spec:\n  endpointSelector: {}\n  egress:\n  - toCIDRSet:\n    - cidr: 10.0.0.0/8\n      cidrGroupRef: g\n")),
            "spec.egress[0].toCIDRSet[0]: only one of cidr, cidrGroupRef and cidrGroupSelector may be given");
}

TEST(ParseErrors, Ports) {
  EXPECT_EQ(E(cnp(R"(spec:
  endpointSelector: {}
  ingress:
  - toPorts:
    - ports:
      - port: "80"
      - port: "70000"
)")),
            "spec.ingress[0].toPorts[0].ports[1].port: \"70000\" is not a valid port");
  EXPECT_EQ(E(cnp("spec:\n  endpointSelector: {}\n  ingress:\n  - toPorts:\n    - ports:\n      - port: \"http_alt\"\n")),
            "spec.ingress[0].toPorts[0].ports[0].port: \"http_alt\" is not a valid port number or name");
  EXPECT_EQ(E(cnp("spec:\n  endpointSelector: {}\n  ingress:\n  - toPorts:\n    - ports:\n      - port: \"-http\"\n")),
            "spec.ingress[0].toPorts[0].ports[0].port: \"-http\" is not a valid port number or name");
  EXPECT_EQ(E(cnp("spec:\n  endpointSelector: {}\n  ingress:\n  - toPorts:\n    - ports:\n      - port: \"a-very-long-port-name\"\n")),
            "spec.ingress[0].toPorts[0].ports[0].port: \"a-very-long-port-name\" is not a valid port number or name");
  EXPECT_EQ(E(cnp("spec:\n  endpointSelector: {}\n  ingress:\n  - toPorts:\n    - ports:\n      - port: \"\"\n")),
            "spec.ingress[0].toPorts[0].ports[0].port: must not be empty (\"0\" means every port)");
  EXPECT_EQ(E(cnp("spec:\n  endpointSelector: {}\n  ingress:\n  - toPorts:\n    - ports:\n      - port: \"80\"\n        endPort: 70\n")),
            "spec.ingress[0].toPorts[0].ports[0].endPort: 70 is less than port 80");
  EXPECT_EQ(E(cnp("spec:\n  endpointSelector: {}\n  ingress:\n  - toPorts:\n    - ports:\n      - port: \"1000\"\n        endPort: 9000\n")),
            "spec.ingress[0].toPorts[0].ports[0].endPort: port ranges wider than 1024 ports are not supported "
            "(1000-9000 is 8001 ports)");
  std::string many = "spec:\n  endpointSelector: {}\n  ingress:\n  - toPorts:\n    - ports:\n";
  for (int i = 1; i <= 41; ++i) many += "      - port: \"" + std::to_string(i) + "\"\n";
  EXPECT_EQ(E(cnp(many)), "spec.ingress[0].toPorts[0].ports: too many ports, the max is 40");
}

TEST(ParseErrors, Protocols) {
  EXPECT_EQ(E(cnp("spec:\n  endpointSelector: {}\n  ingress:\n  - toPorts:\n    - ports:\n      - {port: \"80\", protocol: HTTP}\n")),
            "spec.ingress[0].toPorts[0].ports[0].protocol: \"HTTP\" is not a valid protocol (TCP, UDP, SCTP or ANY)");
  EXPECT_EQ(E(cnp("spec:\n  endpointSelector: {}\n  ingress:\n  - toPorts:\n    - ports:\n      - {port: \"8\", protocol: ICMP}\n")),
            "spec.ingress[0].toPorts[0].ports[0].protocol: \"ICMP\" is not allowed in toPorts; use an icmps rule for "
            "ICMP types");
  // Lower case is accepted (upstream sanitizes capitalization).
  EXPECT_EQ(E(cnp("spec:\n  endpointSelector: {}\n  ingress:\n  - toPorts:\n    - ports:\n      - {port: \"80\", protocol: tcp}\n")),
            "");
}

TEST(ParseErrors, Icmp) {
  EXPECT_EQ(E(cnp("spec:\n  endpointSelector: {}\n  egress:\n  - icmps:\n    - fields:\n      - {type: 256}\n")),
            "spec.egress[0].icmps[0].fields[0].type: 256 is not a valid ICMP type (0-255)");
  EXPECT_EQ(E(cnp("spec:\n  endpointSelector: {}\n  egress:\n  - icmps:\n    - fields:\n      - {type: PacketTooBig}\n")),
            "spec.egress[0].icmps[0].fields[0].type: \"PacketTooBig\" is not a valid ICMP type for IPv4");
  EXPECT_EQ(E(cnp("spec:\n  endpointSelector: {}\n  egress:\n  - icmps:\n    - fields:\n      - {type: 8, family: IPv5}\n")),
            "spec.egress[0].icmps[0].fields[0].family: \"IPv5\" is not a valid family (IPv4 or IPv6)");
  EXPECT_EQ(E(cnp("spec:\n  endpointSelector: {}\n  egress:\n  - icmps:\n    - fields:\n      - {family: IPv4}\n")),
            "spec.egress[0].icmps[0].fields[0].type: required");
  EXPECT_EQ(E(cnp("spec:\n  endpointSelector: {}\n  egress:\n  - icmps: [{fields: [{type: 8}]}]\n    toPorts: [{ports: [{port: \"80\"}]}]\n")),
            "spec.egress[0]: the icmps block may only be present without toPorts (as upstream); write two rules");
}

TEST(ParseErrors, Entities) {
  EXPECT_EQ(E(cnp("spec:\n  endpointSelector: {}\n  egress:\n  - toEntities: [world, wrld]\n")),
            "spec.egress[0].toEntities[1]: unknown entity \"wrld\" (known: all, world, cluster, host, remote-node, "
            "kube-apiserver, health, init, ingress, unmanaged, world-ipv4, world-ipv6, none)");
}

TEST(ParseErrors, Selectors) {
  EXPECT_EQ(E(cnp(R"(spec:
  endpointSelector: {}
  ingress:
  - fromEndpoints:
    - matchExpressions:
      - key: app
        operator: In
        values: []
)")),
            "spec.ingress[0].fromEndpoints[0].matchExpressions[0].values: must be non-empty for operator In (the "
            "selector could never match)");
  EXPECT_EQ(E(cnp("spec:\n  endpointSelector:\n    matchExpressions:\n    - {key: app, operator: Like, values: [a]}\n")),
            "spec.endpointSelector.matchExpressions[0].operator: \"Like\" is not a valid operator (In, NotIn, Exists, "
            "DoesNotExist)");
  EXPECT_EQ(E(cnp("spec:\n  endpointSelector: {}\n  ingress:\n  - fromEndpoints:\n    - null\n")),
            "spec.ingress[0].fromEndpoints[0]: must be a selector mapping ({} selects every endpoint)");
}

TEST(ParseErrors, UnsupportedFeaturesAreNamed) {
  EXPECT_EQ(E(cnp("spec:\n  nodeSelector: {}\n")),
            "spec.nodeSelector: host policies (nodeSelector) are not supported: the host firewall is not part of this "
            "release");
  EXPECT_EQ(E(cnp("spec:\n  endpointSelector: {}\n  egress:\n  - toFQDNs: [{matchName: a.com}]\n")),
            "spec.egress[0].toFQDNs: is not supported yet (needs the DNS proxy)");
  EXPECT_EQ(E(cnp("spec:\n  endpointSelector: {}\n  egress:\n  - toServices: [{k8sService: {serviceName: a}}]\n")),
            "spec.egress[0].toServices: is not supported yet; select the backend pods with toEndpoints");
  EXPECT_EQ(E(cnp(R"(spec:
  endpointSelector: {}
  ingress:
  - toPorts:
    - ports: [{port: "80", protocol: TCP}]
      rules:
        http: [{method: GET}]
)")),
            "spec.ingress[0].toPorts[0].rules: L7 rules (http, kafka, dns, l7) are not supported yet: the L7 proxy "
            "is not part of this release; remove the rules to allow the port at L4");
  EXPECT_EQ(E(cnp("spec:\n  endpointSelector: {}\n  ingress:\n  - authentication: {mode: required}\n")),
            "spec.ingress[0].authentication.mode: \"required\" is not supported (mutual authentication)");
}

TEST(ParseErrors, CombiningPeerKindsRejectedAsUpstream) {
  EXPECT_EQ(E(cnp("spec:\n  endpointSelector: {}\n  ingress:\n  - fromEndpoints: [{}]\n    fromCIDR: [10.0.0.0/8]\n")),
            "spec.ingress[0]: combining fromEndpoints and fromCIDR in one rule is not supported (as upstream); write "
            "two rules");
}

TEST(ParseErrors, CidrGroup) {
  auto g = [](const std::string& spec) {
    try {
      parse_cidr_group(yaml("apiVersion: cilium.io/v2alpha1\nkind: CiliumCIDRGroup\nmetadata: {name: g}\n" + spec));
    } catch (const PolicyError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_EQ(g("spec:\n  externalCIDRs: [\"10.0.0.0/40\"]\n"),
            "spec.externalCIDRs[0]: \"10.0.0.0/40\" is not a valid CIDR (<address>/<length>)");
  EXPECT_EQ(g("spec: {}\n"), "spec.externalCIDRs: required");
  EXPECT_EQ(g("spec:\n  externalCIDRs: []\n"), "");
}
