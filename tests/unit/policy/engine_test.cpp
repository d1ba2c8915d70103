// PolicyEngine behaviour: incremental updates, change streams, revisions,
// enforcement modes, named ports, bad input, trace.
#include <gtest/gtest.h>

#include <thread>

#include "world.h"

using namespace policy_test;

namespace {

std::string cnp(const std::string& ns, const std::string& name, const std::string& spec) {
  return "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata:\n  name: " + name + "\n  namespace: \"" + ns +
         "\"\nspec:\n" + spec;
}

std::vector<std::string> render_changes(const std::vector<MapChange>& ch) {
  std::vector<std::string> out;
  for (const auto& c : ch)
    out.push_back("ep" + std::to_string(c.ep_id) + " " + c.key.str() +
                  (c.value ? (c.value->deny ? " deny" : " allow") : " delete"));
  return out;
}

// A fresh engine given the same inputs, for "incremental == full" checks.
std::map<uint16_t, std::map<MapKey, MapValue>> all_entries(const PolicyEngine& e, int max_ep = 10) {
  std::map<uint16_t, std::map<MapKey, MapValue>> m;
  for (int i = 1; i <= max_ep; ++i)
    if (auto p = e.endpoint_policy(static_cast<uint16_t>(i))) m[static_cast<uint16_t>(i)] = p->entries;
  return m;
}

const std::string kAllowFromB =
    cnp("x", "from-b", "  endpointSelector: {matchLabels: {pod: a}}\n  ingress:\n  - fromEndpoints: [{matchLabels: {pod: b}}]\n    toPorts: [{ports: [{port: \"80\", protocol: TCP}]}]\n");
const std::string kYFromWeb =
    cnp("y", "from-web", "  endpointSelector: {matchLabels: {pod: a}}\n  ingress:\n  - fromEndpoints: [{matchLabels: {app: web}}]\n");

}  // namespace

// ---------------------------------------------------------------------------
// Incremental identity updates

TEST(Incremental, NewIdentityChangesOnlyEndpointsWhoseSelectorsMatch) {
  PolicyEngine e;
  populate(e);
  apply_all(e, kAllowFromB + "---\n" + kYFromWeb);
  e.take_changes();
  e.take_enforcement_changes();
  auto before = all_entries(e);
  auto rev_y = e.endpoint_policy(4)->revision;

  // A second "b" pod in x with another label set: a new identity.
  LabelSet b2 = model_pod_labels("x", 1);
  b2.add(Label{"k8s", "version", "v2"});
  e.add_identity(300, b2);
  EXPECT_EQ(render_changes(e.take_changes()), (std::vector<std::string>{"ep1 ingress id=300 80/TCP allow"}));
  EXPECT_TRUE(e.take_enforcement_changes().empty());
  EXPECT_EQ(e.endpoint_policy(4)->revision, rev_y);  // untouched

  // An identity no selector matches changes nothing.
  e.add_identity(301, pod("w", {"pod=q"}));
  EXPECT_TRUE(e.take_changes().empty());

  // Removal deletes exactly that entry.
  e.remove_identity(300);
  EXPECT_EQ(render_changes(e.take_changes()), (std::vector<std::string>{"ep1 ingress id=300 80/TCP delete"}));
  e.remove_identity(301);
  EXPECT_TRUE(e.take_changes().empty());
  EXPECT_EQ(all_entries(e), before);
}

TEST(Incremental, NewIdentityFansOutToEverySelectedEndpoint) {
  PolicyEngine e;
  populate(e);
  apply_all(e, "apiVersion: cilium.io/v2\nkind: CiliumClusterwideNetworkPolicy\nmetadata: {name: all-pods}\nspec:\n"
               "  endpointSelector: {}\n  ingress:\n  - fromEndpoints: [{}]\n");
  e.take_changes();
  e.add_identity(500, pod("w", {"pod=new"}));
  auto ch = e.take_changes();
  EXPECT_EQ(ch.size(), 10u);  // every local endpoint (9 model pods + coredns)
  for (const auto& c : ch) EXPECT_EQ(c.key, (MapKey{500, CPP_DIR_INGRESS, 0, 0}));
  // Reserved/CIDR identities are not pods: no change.
  e.add_identity((1u << 24) + 77, cidr_ids("198.51.100.0/24"));
  EXPECT_TRUE(e.take_changes().empty());
}

TEST(Incremental, WildcardRulesIgnoreNewIdentities) {
  PolicyEngine e;
  populate(e);
  apply_all(e, cnp("x", "l4", "  endpointSelector: {}\n  ingress:\n  - toPorts: [{ports: [{port: \"80\", protocol: TCP}]}]\n"));
  e.take_changes();
  e.add_identity(500, pod("x", {"pod=new"}));
  EXPECT_TRUE(e.take_changes().empty());
}

TEST(Incremental, RelabeledIdentityMovesBetweenSelectors) {
  PolicyEngine e;
  populate(e);
  apply_all(e, kAllowFromB);
  e.take_changes();
  e.add_identity(id_of("x", "b"), model_pod_labels("x", 2));  // x/b's identity now looks like a "c"
  EXPECT_EQ(render_changes(e.take_changes()), (std::vector<std::string>{"ep1 ingress id=257 80/TCP delete"}));
  e.add_identity(id_of("x", "b"), model_pod_labels("x", 1));
  EXPECT_EQ(render_changes(e.take_changes()), (std::vector<std::string>{"ep1 ingress id=257 80/TCP allow"}));
}

TEST(Incremental, IdentityChurnEqualsFullRecompute) {
  PolicyEngine inc;
  populate(inc);
  const std::string pols =
      kAllowFromB + "---\n" + kYFromWeb + "---\n" +
      cnp("z", "mix", "  endpointSelector: {}\n  ingress:\n  - fromEndpoints: [{matchExpressions: [{key: app, operator: NotIn, values: [db]}, {key: io.kubernetes.pod.namespace, operator: Exists}]}]\n    toPorts: [{ports: [{port: serve-80-tcp}]}]\n  egress:\n  - toCIDRSet: [{cidr: 10.0.0.0/8, except: [10.96.0.0/12]}]\n  egressDeny:\n  - toEndpoints: [{matchLabels: {app: db}}]\n");
  apply_all(inc, pols);
  // Identities come and go.
  for (uint32_t i = 0; i < 20; ++i) {
    LabelSet ls = pod(i % 2 ? "x" : "z", {i % 3 ? "app=web" : "app=db", i % 4 ? "pod=b" : "pod=q"});
    inc.add_identity(600 + i, ls);
  }
  for (uint32_t i = 0; i < 20; i += 3) inc.remove_identity(600 + i);
  inc.add_identity((1u << 24) + 50, cidr_ids("10.1.0.0/16"));
  inc.add_identity((1u << 24) + 51, cidr_ids("10.97.0.0/16"));

  PolicyEngine full;
  for (uint32_t i = 0; i < 20; ++i) {
    if (i % 3 == 0) continue;
    LabelSet ls = pod(i % 2 ? "x" : "z", {i % 3 ? "app=web" : "app=db", i % 4 ? "pod=b" : "pod=q"});
    full.add_identity(600 + i, ls);
  }
  full.add_identity((1u << 24) + 50, cidr_ids("10.1.0.0/16"));
  full.add_identity((1u << 24) + 51, cidr_ids("10.97.0.0/16"));
  populate(full);
  apply_all(full, pols);
  EXPECT_EQ(all_entries(inc), all_entries(full));
}

// ---------------------------------------------------------------------------
// Policy changes

TEST(PolicyChanges, OnlySelectedEndpointsAreRecomputed) {
  PolicyEngine e;
  populate(e);
  e.take_changes();
  e.take_enforcement_changes();
  std::map<uint16_t, uint64_t> revs;
  for (uint16_t i = 1; i <= 10; ++i) revs[i] = e.endpoint_policy(i)->revision;
  apply_all(e, kAllowFromB);
  EXPECT_EQ(render_changes(e.take_changes()),
            (std::vector<std::string>{"ep1 ingress id=1 ANY allow", "ep1 ingress id=257 80/TCP allow"}));
  auto enf = e.take_enforcement_changes();
  ASSERT_EQ(enf.size(), 1u);
  EXPECT_EQ(enf[0], (EnforcementChange{1, true, false, false}));
  for (uint16_t i = 2; i <= 10; ++i) EXPECT_EQ(e.endpoint_policy(i)->revision, revs[i]) << i;
  EXPECT_GT(e.endpoint_policy(1)->revision, revs[1]);
}

TEST(PolicyChanges, ReplaceRemovesStaleEntries) {
  PolicyEngine e;
  populate(e);
  apply_all(e, kAllowFromB);
  e.take_changes();
  e.take_enforcement_changes();
  apply_all(e, cnp("x", "from-b", "  endpointSelector: {matchLabels: {pod: a}}\n  ingress:\n  - fromEndpoints: [{matchLabels: {pod: c}}]\n"));
  EXPECT_EQ(render_changes(e.take_changes()),
            (std::vector<std::string>{"ep1 ingress id=257 80/TCP delete", "ep1 ingress id=258 ANY allow"}));
  // Moving the subject: ep1 loses the policy, ep2 gains it.
  apply_all(e, cnp("x", "from-b", "  endpointSelector: {matchLabels: {pod: b}}\n  ingress:\n  - fromEndpoints: [{matchLabels: {pod: c}}]\n"));
  EXPECT_EQ(render_changes(e.take_changes()),
            (std::vector<std::string>{"ep1 ingress id=1 ANY delete", "ep1 ingress id=258 ANY delete",
                                      "ep2 ingress id=1 ANY allow", "ep2 ingress id=258 ANY allow"}));
  auto enf = e.take_enforcement_changes();
  ASSERT_EQ(enf.size(), 2u);
  EXPECT_EQ(enf[0], (EnforcementChange{1, false, false, false}));
  EXPECT_EQ(enf[1], (EnforcementChange{2, true, false, false}));
}

TEST(PolicyChanges, RemoveRestoresAndUnknownRemoveIsHarmless) {
  PolicyEngine e;
  populate(e);
  auto before = all_entries(e);
  apply_all(e, kAllowFromB);
  e.remove("CiliumNetworkPolicy", "x", "from-b");
  EXPECT_EQ(all_entries(e), before);
  EXPECT_FALSE(e.endpoint_policy(1)->enforce_ingress);
  auto r = e.revision();
  EXPECT_GT(e.remove("CiliumNetworkPolicy", "x", "nope"), r);
  EXPECT_THROW(e.remove("Pod", "x", "a"), PolicyError);
}

TEST(PolicyChanges, BadPolicyChangesNothing) {
  PolicyEngine e;
  populate(e);
  apply_all(e, kAllowFromB);
  e.take_changes();
  auto rev = e.revision();
  auto before = all_entries(e);
  try {
    apply_all(e, cnp("x", "from-b", "  endpointSelector: {matchLabels: {pod: a}}\n  ingress:\n  - toPorts: [{ports: [{port: \"70000\"}]}]\n"));
    FAIL() << "expected PolicyError";
  } catch (const PolicyError& err) {
    EXPECT_STREQ(err.what(), "spec.ingress[0].toPorts[0].ports[0].port: \"70000\" is not a valid port");
    EXPECT_EQ(err.path(), "spec.ingress[0].toPorts[0].ports[0].port");
  }
  EXPECT_EQ(e.revision(), rev);
  EXPECT_EQ(all_entries(e), before);
  EXPECT_TRUE(e.take_changes().empty());
  EXPECT_EQ(e.policies().size(), 1u);
  EXPECT_THROW(e.apply(yaml("apiVersion: cilium.io/v2alpha1\nkind: CiliumCIDRGroup\nmetadata: {name: g}\nspec: {}\n")),
               PolicyError);
  EXPECT_EQ(e.revision(), rev);
}

TEST(PolicyChanges, RevisionIsMonotonic) {
  PolicyEngine e;
  uint64_t last = e.revision();
  auto bump = [&](uint64_t r) {
    EXPECT_GT(r, last);
    last = r;
  };
  populate(e);
  bump(e.revision());
  bump(e.apply(yaml(kAllowFromB)));
  bump(e.apply(yaml(kAllowFromB)));  // same content: still a new revision
  e.add_identity(999, pod("x", {"pod=b"}));
  bump(e.revision());
  e.upsert_endpoint(1, 256, model_pod_labels("x", 0), model_ports(0));
  bump(e.revision());
  e.set_mode(EnforcementMode::Always, false);
  bump(e.revision());
  bump(e.remove("CiliumNetworkPolicy", "x", "from-b"));
  e.remove_endpoint(1);
  bump(e.revision());
}

TEST(PolicyChanges, PoliciesListing) {
  PolicyEngine e;
  apply_all(e, kAllowFromB + "---\n" + kYFromWeb);
  auto ps = e.policies();
  ASSERT_EQ(ps.size(), 2u);
  EXPECT_EQ(ps[0].name, "from-b");
  EXPECT_EQ(ps[0].ns, "x");
  EXPECT_EQ(ps[0].object["kind"], "CiliumNetworkPolicy");
  EXPECT_EQ(ps[1].name, "from-web");
}

// ---------------------------------------------------------------------------
// Change stream

TEST(Changes, CoalescedAndCommitted) {
  PolicyEngine e;
  populate(e);
  e.take_changes();
  apply_all(e, kAllowFromB);
  e.remove("CiliumNetworkPolicy", "x", "from-b");
  EXPECT_TRUE(e.take_changes().empty());  // added and removed before anyone looked
  apply_all(e, kAllowFromB);
  EXPECT_EQ(e.take_changes().size(), 2u);
  EXPECT_TRUE(e.take_changes().empty());
}

TEST(Changes, EndpointRemovalDeletesItsEntries) {
  PolicyEngine e;
  populate(e);
  apply_all(e, kAllowFromB);
  e.take_changes();
  e.take_enforcement_changes();
  e.remove_endpoint(1);
  EXPECT_EQ(render_changes(e.take_changes()),
            (std::vector<std::string>{"ep1 ingress id=1 ANY delete", "ep1 ingress id=257 80/TCP delete"}));
  EXPECT_TRUE(e.take_enforcement_changes().empty());
  EXPECT_FALSE(e.endpoint_policy(1));
  EXPECT_FALSE(e.has_endpoint(1));
  e.remove_endpoint(1);  // idempotent
}

TEST(Changes, NewEndpointReportsItsFirstEnforcementState) {
  PolicyEngine e;
  e.upsert_endpoint(7, 256, model_pod_labels("x", 0));
  auto enf = e.take_enforcement_changes();
  ASSERT_EQ(enf.size(), 1u);
  EXPECT_EQ(enf[0], (EnforcementChange{7, false, false, false}));
  e.upsert_endpoint(7, 256, model_pod_labels("x", 0));
  EXPECT_TRUE(e.take_enforcement_changes().empty());
}

TEST(Changes, PodCreatedAfterThePolicy) {
  PolicyEngine e;
  apply_all(e, kAllowFromB);
  e.add_identity(256, model_pod_labels("x", 0));
  e.upsert_endpoint(1, 256, model_pod_labels("x", 0), model_ports(0));
  EXPECT_EQ(render_changes(e.take_changes()), (std::vector<std::string>{"ep1 ingress id=1 ANY allow"}));
  e.add_identity(257, model_pod_labels("x", 1));  // the client's identity appears
  EXPECT_EQ(render_changes(e.take_changes()), (std::vector<std::string>{"ep1 ingress id=257 80/TCP allow"}));
}

// ---------------------------------------------------------------------------
// enable-policy modes and audit

TEST(Modes, DefaultEnforcesOnlyDirectionsWithRules) {
  PolicyEngine e;
  populate(e);
  apply_all(e, kAllowFromB);
  EXPECT_TRUE(e.endpoint_policy(1)->enforce_ingress);
  EXPECT_FALSE(e.endpoint_policy(1)->enforce_egress);
  EXPECT_FALSE(e.endpoint_policy(2)->enforce_ingress);
}

TEST(Modes, AlwaysEnforcesEverythingNeverNothing) {
  PolicyEngine e;
  populate(e);
  apply_all(e, kAllowFromB);
  e.take_enforcement_changes();
  e.set_mode(EnforcementMode::Always, false);
  auto p2 = e.endpoint_policy(2);
  EXPECT_TRUE(p2->enforce_ingress && p2->enforce_egress);
  EXPECT_EQ(render(p2->entries, true), (std::vector<std::string>{"ingress id=1 ANY allow"}));  // only allow-localhost
  EXPECT_FALSE(flow(e, 2, 3, kProtoTCP, 80));  // default deny everywhere
  EXPECT_EQ(e.take_enforcement_changes().size(), 10u);  // every endpoint changes (ep1 gains egress)
  e.set_mode(EnforcementMode::Never, false);
  for (uint16_t i = 1; i <= 10; ++i) {
    auto p = e.endpoint_policy(i);
    EXPECT_FALSE(p->enforce_ingress || p->enforce_egress);
    EXPECT_TRUE(p->entries.empty());
  }
  EXPECT_TRUE(flow(e, 2, 1, kProtoTCP, 9999));
  e.set_mode(EnforcementMode::Default, false);
  EXPECT_EQ(render(e.endpoint_policy(1)->entries), (std::vector<std::string>{"ingress id=257 80/TCP allow"}));
}

TEST(Modes, InitEndpointsAreDefaultDeny) {
  PolicyEngine e;
  e.upsert_endpoint(5, 5, L({"reserved:init"}));
  auto p = e.endpoint_policy(5);
  EXPECT_TRUE(p->enforce_ingress && p->enforce_egress);
  apply_all(e, "apiVersion: cilium.io/v2\nkind: CiliumClusterwideNetworkPolicy\nmetadata: {name: init}\nspec:\n"
               "  endpointSelector: {matchLabels: {reserved:init: \"\"}}\n  egress:\n  - toEntities: [world]\n");
  EXPECT_EQ(e.endpoint_policy(5)->entries.count(MapKey{2, CPP_DIR_EGRESS, 0, 0}), 1u);
}

TEST(Modes, AuditFlag) {
  PolicyEngine e;
  populate(e);
  e.take_enforcement_changes();
  e.set_mode(EnforcementMode::Default, true);
  EXPECT_TRUE(e.endpoint_policy(1)->audit);
  auto enf = e.take_enforcement_changes();
  EXPECT_EQ(enf.size(), 10u);
  for (const auto& c : enf) EXPECT_TRUE(c.audit);
  EXPECT_TRUE(e.config().audit);
  EXPECT_EQ(parse_enforcement_mode("always"), EnforcementMode::Always);
  EXPECT_THROW(parse_enforcement_mode("sometimes"), std::invalid_argument);
}

TEST(Modes, HostEndpointIsNotPoliced) {
  PolicyEngine e;
  e.upsert_endpoint(100, 1, L({"reserved:host"}));
  apply_all(e, "apiVersion: cilium.io/v2\nkind: CiliumClusterwideNetworkPolicy\nmetadata: {name: all}\nspec:\n"
               "  endpointSelector: {}\n  ingress: [{}]\n");
  EXPECT_FALSE(e.endpoint_policy(100)->enforce_ingress);
}

// ---------------------------------------------------------------------------
// Named ports

TEST(NamedPorts, IngressFollowsEndpointPorts) {
  PolicyEngine e;
  populate(e);
  apply_all(e, cnp("x", "np", "  endpointSelector: {matchLabels: {pod: a}}\n  ingress:\n  - toPorts: [{ports: [{port: web}]}]\n"));
  EXPECT_TRUE(e.endpoint_policy(1)->entries.size() == 1);  // only allow-localhost
  e.take_changes();
  NamedPorts ports = model_ports(0);
  ports.push_back({"web", 8080, kProtoTCP});
  e.upsert_endpoint(1, 256, model_pod_labels("x", 0), ports);
  EXPECT_EQ(render_changes(e.take_changes()), (std::vector<std::string>{"ep1 ingress id=0 8080/TCP allow"}));
}

TEST(NamedPorts, EgressFollowsPeerPorts) {
  PolicyEngine e;
  populate(e);
  apply_all(e, cnp("x", "np", "  endpointSelector: {matchLabels: {pod: a}}\n  egress:\n  - toEndpoints: [{matchLabels: {k8s:io.kubernetes.pod.namespace: remote}}]\n    toPorts: [{ports: [{port: metrics, protocol: TCP}]}]\n"));
  e.add_identity(700, pod("remote", {"app=m"}));
  e.take_changes();
  e.set_peer_named_ports("remote/m-1", 700, {{"metrics", 9090, kProtoTCP}});
  EXPECT_EQ(render_changes(e.take_changes()), (std::vector<std::string>{"ep1 egress id=700 9090/TCP allow"}));
  e.set_peer_named_ports("remote/m-2", 700, {{"metrics", 9100, kProtoTCP}});  // second pod, other port
  EXPECT_EQ(render_changes(e.take_changes()), (std::vector<std::string>{"ep1 egress id=700 9100/TCP allow"}));
  e.remove_peer_named_ports("remote/m-1");
  EXPECT_EQ(render_changes(e.take_changes()), (std::vector<std::string>{"ep1 egress id=700 9090/TCP delete"}));
}

TEST(NamedPorts, FromPodObject) {
  auto ports = pod_named_ports(json::parse(R"({"spec":{"containers":[
      {"name":"c","ports":[{"name":"DNS","containerPort":53,"protocol":"UDP"},{"name":"dns-tcp","containerPort":53},
                           {"containerPort":8080}]},
      {"name":"d","ports":[{"name":"metrics","containerPort":9153,"protocol":"TCP"}]}]}})"));
  EXPECT_EQ(ports, (NamedPorts{{"dns", 53, kProtoUDP}, {"dns-tcp", 53, kProtoTCP}, {"metrics", 9153, kProtoTCP}}));
  EXPECT_TRUE(pod_named_ports(json::parse("{}")).empty());
}

// ---------------------------------------------------------------------------
// Selectors

TEST(Selectors, SharedAndReleased) {
  PolicyEngine e;
  populate(e);
  apply_all(e, cnp("x", "s", "  endpointSelector: {}\n  ingress:\n  - fromEndpoints: [{matchLabels: {pod: b}}]\n"));
  auto sels = e.selectors();
  ASSERT_EQ(sels.size(), 1u);
  EXPECT_EQ(sels[0].selector, "{any:pod=b, k8s:io.kubernetes.pod.namespace=x}");
  EXPECT_EQ(sels[0].identities, (std::vector<uint32_t>{257}));
  EXPECT_EQ(sels[0].users, 3u);  // x/a, x/b, x/c
  e.remove("CiliumNetworkPolicy", "x", "s");
  EXPECT_TRUE(e.selectors().empty());
}

// ---------------------------------------------------------------------------
// Trace

TEST(Trace, AllowedByIngressRuleNamesIt) {
  PolicyEngine e;
  populate(e);
  apply_all(e, kAllowFromB);
  auto t = e.trace(model_pod_labels("x", 1), model_pod_labels("x", 0), kProtoTCP, 80);
  EXPECT_TRUE(t.allowed);
  EXPECT_EQ(t.verdict(), "ALLOWED");
  EXPECT_FALSE(t.egress.enforced);
  EXPECT_TRUE(t.ingress.enforced);
  ASSERT_TRUE(t.ingress.rule);
  EXPECT_EQ(t.ingress.rule->str(), "CiliumNetworkPolicy x/from-b spec.ingress[0]");
  EXPECT_EQ(e.describe_cookie(t.ingress.cookie), "CiliumNetworkPolicy x/from-b spec.ingress[0]");
  EXPECT_NE(t.text.find("Final verdict: ALLOWED"), std::string::npos);
  EXPECT_NE(t.text.find("Tracing From:"), std::string::npos);
  EXPECT_NE(t.text.find("ingress verdict: allowed by CiliumNetworkPolicy x/from-b spec.ingress[0]"), std::string::npos);
}

TEST(Trace, DefaultDenyAndWrongPort) {
  PolicyEngine e;
  populate(e);
  apply_all(e, kAllowFromB);
  auto t = e.trace(model_pod_labels("x", 1), model_pod_labels("x", 0), kProtoTCP, 81);
  EXPECT_FALSE(t.allowed);
  EXPECT_EQ(t.verdict(), "DENIED");
  EXPECT_EQ(t.ingress.cookie, 0u);
  EXPECT_NE(t.text.find("peer matches, port does not"), std::string::npos);
  EXPECT_NE(t.text.find("no rule allows it: default deny"), std::string::npos);
  auto u = e.trace(model_pod_labels("x", 2), model_pod_labels("x", 0), kProtoTCP, 80);
  EXPECT_FALSE(u.allowed);
}

TEST(Trace, DenyWinsAndIsNamed) {
  PolicyEngine e;
  populate(e);
  apply_all(e, cnp("x", "allow", "  endpointSelector: {}\n  ingress:\n  - fromEntities: [all]\n") + "---\n" +
                   cnp("x", "deny", "  endpointSelector: {}\n  ingressDeny:\n  - fromEndpoints: [{matchLabels: {pod: b}}]\n    toPorts: [{ports: [{port: \"22\", protocol: TCP}]}]\n"));
  auto t = e.trace(model_pod_labels("x", 1), model_pod_labels("x", 0), kProtoTCP, 22);
  EXPECT_FALSE(t.allowed);
  ASSERT_TRUE(t.ingress.rule);
  EXPECT_EQ(t.ingress.rule->str(), "CiliumNetworkPolicy x/deny spec.ingressDeny[0]");
  EXPECT_TRUE(t.ingress.rule->deny);
  EXPECT_TRUE(e.trace(model_pod_labels("x", 1), model_pod_labels("x", 0), kProtoTCP, 23).allowed);
}

TEST(Trace, EgressCidrAndWorld) {
  PolicyEngine e;
  populate(e);
  apply_all(e, cnp("x", "cidr", "  endpointSelector: {}\n  egress:\n  - toCIDRSet: [{cidr: 10.0.0.0/8, except: [10.96.0.0/12]}]\n"));
  auto ok = e.trace(model_pod_labels("x", 0), L({"cidr:10.1.2.3/32"}), kProtoTCP, 443);
  EXPECT_TRUE(ok.allowed);
  EXPECT_EQ(ok.egress.rule->str(), "CiliumNetworkPolicy x/cidr spec.egress[0]");
  EXPECT_FALSE(e.trace(model_pod_labels("x", 0), L({"cidr:10.96.0.1/32"}), kProtoTCP, 443).allowed);
  EXPECT_FALSE(e.trace(model_pod_labels("x", 0), L({"reserved:world"}), kProtoTCP, 443).allowed);
}

TEST(Trace, IcmpNamedPortsAndLocalhost) {
  PolicyEngine e;
  populate(e);
  apply_all(e, cnp("x", "icmp", "  endpointSelector: {}\n  ingress:\n  - icmps: [{fields: [{type: 8}]}]\n  - toPorts: [{ports: [{port: serve-81-tcp}]}]\n"));
  EXPECT_TRUE(e.trace(model_pod_labels("y", 0), model_pod_labels("x", 0), kProtoICMP, 8).allowed);
  EXPECT_FALSE(e.trace(model_pod_labels("y", 0), model_pod_labels("x", 0), kProtoICMP, 13).allowed);
  EXPECT_TRUE(e.trace(model_pod_labels("y", 0), model_pod_labels("x", 0), kProtoTCP, 81, model_ports(0)).allowed);
  EXPECT_FALSE(e.trace(model_pod_labels("y", 0), model_pod_labels("x", 0), kProtoTCP, 81).allowed);  // no port names given
  auto h = e.trace(L({"reserved:host"}), model_pod_labels("x", 0), kProtoTCP, 9999);
  EXPECT_TRUE(h.allowed);
  EXPECT_EQ(h.ingress.cookie, kCookieAllowLocalhost);
}

TEST(Trace, AuditAndModes) {
  PolicyEngine e;
  populate(e);
  apply_all(e, kAllowFromB);
  e.set_mode(EnforcementMode::Default, true);
  auto t = e.trace(model_pod_labels("x", 2), model_pod_labels("x", 0), kProtoTCP, 80);
  EXPECT_FALSE(t.allowed);
  EXPECT_TRUE(t.audit);
  EXPECT_EQ(t.verdict(), "AUDITED (would be denied; policy-audit-mode lets it pass)");
  e.set_mode(EnforcementMode::Never, false);
  EXPECT_TRUE(e.trace(model_pod_labels("x", 2), model_pod_labels("x", 0), kProtoTCP, 80).allowed);
  e.set_mode(EnforcementMode::Always, false);
  auto a = e.trace(model_pod_labels("y", 2), model_pod_labels("z", 0), kProtoTCP, 80);
  EXPECT_FALSE(a.allowed);
  EXPECT_TRUE(a.egress.enforced);
}

TEST(Trace, MatchesMapStateForTheModel) {
  // The trace (evaluated from rules) and the maps (evaluated by the datapath
  // lookup) agree on every pair for a mixed set of policies.
  PolicyEngine e;
  populate(e);
  apply_all(e, cnp("x", "a", "  endpointSelector: {matchLabels: {pod: a}}\n  ingress:\n  - fromEndpoints: [{matchExpressions: [{key: io.kubernetes.pod.namespace, operator: Exists}]}]\n    toPorts: [{ports: [{port: \"80\"}]}]\n  ingressDeny:\n  - fromEndpoints: [{matchLabels: {k8s:io.kubernetes.pod.namespace: z}}]\n") + "---\n" +
                   cnp("y", "b", "  endpointSelector: {}\n  egress:\n  - toEndpoints: [{matchLabels: {pod: a, k8s:io.kubernetes.pod.namespace: x}}]\n  - toEntities: [world]\n"));
  for (int fn = 0; fn < 3; ++fn)
    for (int fp = 0; fp < 3; ++fp)
      for (int tn = 0; tn < 3; ++tn)
        for (int tp = 0; tp < 3; ++tp)
          for (uint16_t port : {80, 81}) {
            auto src = model_pod_labels(kNamespaces[fn], fp), dst = model_pod_labels(kNamespaces[tn], tp);
            bool maps = flow(e, ep_of(kNamespaces[fn], kPods[fp]), ep_of(kNamespaces[tn], kPods[tp]), kProtoTCP, port);
            EXPECT_EQ(e.trace(src, dst, kProtoTCP, port).allowed, maps)
                << kNamespaces[fn] << "/" << kPods[fp] << " -> " << kNamespaces[tn] << "/" << kPods[tp] << ":" << port;
          }
}

TEST(Concurrency, ParallelCallersSeeAConsistentEngine) {
  PolicyEngine e;
  populate(e);
  std::thread policies([&] {
    for (int i = 0; i < 50; ++i) {
      apply_all(e, kAllowFromB);
      e.remove("CiliumNetworkPolicy", "x", "from-b");
    }
    apply_all(e, kAllowFromB);
  });
  std::thread identities([&] {
    for (uint32_t i = 0; i < 200; ++i) {
      e.add_identity(1000 + i, pod("x", {"pod=b", i % 2 ? "v=1" : "v=2"}));
      if (i % 3 == 0) e.remove_identity(1000 + i);
    }
  });
  std::thread readers([&] {
    for (int i = 0; i < 200; ++i) {
      e.take_changes();
      e.endpoint_policy(1);
      e.trace(model_pod_labels("x", 1), model_pod_labels("x", 0), kProtoTCP, 80);
    }
  });
  policies.join();
  identities.join();
  readers.join();
  size_t expected = 1;  // x/b itself
  for (uint32_t i = 0; i < 200; ++i)
    if (i % 3 != 0) ++expected;
  EXPECT_EQ(render(e.endpoint_policy(1)->entries).size(), expected);
}
