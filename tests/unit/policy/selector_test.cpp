#include <gtest/gtest.h>

#include "policy/selector.h"
#include "test_util.h"

using namespace cpp::policy;
using namespace policy_test;

namespace {
Selector sel(const std::string& j, SelectorSyntax syn = SelectorSyntax::Cilium) {
  return parse_selector(json::parse(j), "sel", syn);
}
std::string sel_error(const std::string& j, SelectorSyntax syn = SelectorSyntax::Cilium) {
  try {
    parse_selector(json::parse(j), "sel", syn);
  } catch (const PolicyError& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST(Selector, EmptyMatchesEverything) {
  EXPECT_TRUE(sel("{}").matches(L({"k8s:app=a"})));
  EXPECT_TRUE(sel("{}").matches(LabelSet{}));
  EXPECT_TRUE(sel("null").empty());
  EXPECT_EQ(sel("{}").str(), "{}");
}

TEST(Selector, MatchLabelsWithoutSourceMatchesAnySource) {
  Selector s = sel(R"({"matchLabels":{"app":"web"}})");
  EXPECT_TRUE(s.matches(L({"k8s:app=web"})));
  EXPECT_TRUE(s.matches(L({"container:app=web"})));
  EXPECT_FALSE(s.matches(L({"k8s:app=db"})));
  EXPECT_FALSE(s.matches(L({"k8s:role=web"})));
  EXPECT_EQ(s.str(), "{any:app=web}");
}

TEST(Selector, MatchLabelsWithSourceMatchesOnlyThatSource) {
  Selector s = sel(R"({"matchLabels":{"k8s:app":"web"}})");
  EXPECT_TRUE(s.matches(L({"k8s:app=web"})));
  EXPECT_FALSE(s.matches(L({"container:app=web"})));
}

TEST(Selector, ReservedLabelsWithEmptyValue) {
  Selector s = sel(R"({"matchLabels":{"reserved:host":""}})");
  EXPECT_TRUE(s.matches(L({"reserved:host"})));
  EXPECT_FALSE(s.matches(L({"reserved:world"})));
}

TEST(Selector, MatchExpressionsOperators) {
  LabelSet prod = L({"k8s:env=prod", "k8s:tier=web"});
  LabelSet dev = L({"k8s:env=dev"});
  LabelSet none = L({"k8s:tier=web"});
  Selector in = sel(R"({"matchExpressions":[{"key":"env","operator":"In","values":["prod","staging"]}]})");
  EXPECT_TRUE(in.matches(prod));
  EXPECT_FALSE(in.matches(dev));
  EXPECT_FALSE(in.matches(none));
  Selector notin = sel(R"({"matchExpressions":[{"key":"env","operator":"NotIn","values":["prod"]}]})");
  EXPECT_FALSE(notin.matches(prod));
  EXPECT_TRUE(notin.matches(dev));
  EXPECT_TRUE(notin.matches(none));  // absent key satisfies NotIn (Kubernetes semantics)
  Selector ex = sel(R"({"matchExpressions":[{"key":"env","operator":"Exists"}]})");
  EXPECT_TRUE(ex.matches(prod));
  EXPECT_FALSE(ex.matches(none));
  Selector dne = sel(R"({"matchExpressions":[{"key":"env","operator":"DoesNotExist"}]})");
  EXPECT_FALSE(dne.matches(dev));
  EXPECT_TRUE(dne.matches(none));
}

TEST(Selector, AndOfAllRequirements) {
  // Upstream documentation: examples/policies/l3/match-expressions/and-statement.yaml
  Selector s = sel(R"({"matchExpressions":[
      {"key":"k8s:io.kubernetes.pod.namespace","operator":"in","values":["production"]},
      {"key":"k8s:cilium.example.com/policy","operator":"in","values":["strict"]}]})");
  EXPECT_TRUE(s.matches(L({"k8s:io.kubernetes.pod.namespace=production", "k8s:cilium.example.com/policy=strict"})));
  EXPECT_FALSE(s.matches(L({"k8s:io.kubernetes.pod.namespace=production"})));
  EXPECT_FALSE(s.matches(L({"k8s:cilium.example.com/policy=strict"})));
}

TEST(Selector, MatchLabelsAndExpressionsCombine) {
  Selector s = sel(R"({"matchLabels":{"app":"web"},"matchExpressions":[{"key":"env","operator":"NotIn","values":["dev"]}]})");
  EXPECT_TRUE(s.matches(L({"k8s:app=web", "k8s:env=prod"})));
  EXPECT_FALSE(s.matches(L({"k8s:app=web", "k8s:env=dev"})));
}

TEST(Selector, CanonicalFormIsOrderIndependent) {
  Selector a = sel(R"({"matchLabels":{"a":"1","b":"2"}})");
  Selector b = sel(R"({"matchExpressions":[{"key":"b","operator":"In","values":["2"]}],"matchLabels":{"a":"1"}})");
  EXPECT_EQ(a, b);
  EXPECT_EQ(a.str(), b.str());
  Selector c = sel(R"({"matchExpressions":[{"key":"x","operator":"In","values":["b","a","a"]}]})");
  EXPECT_EQ(c.str(), "{any:x in (a,b)}");
}

TEST(Selector, K8sSyntaxPrefixesSource) {
  Selector p = sel(R"({"matchLabels":{"app":"web"}})", SelectorSyntax::K8sPod);
  EXPECT_EQ(p.str(), "{k8s:app=web}");
  EXPECT_FALSE(p.matches(L({"container:app=web"})));
  Selector n = sel(R"({"matchLabels":{"team":"a"}})", SelectorSyntax::K8sNamespace);
  EXPECT_EQ(n.str(), "{k8s:io.cilium.k8s.namespace.labels.team=a}");
}

TEST(Selector, SetMatchReplaces) {
  Selector s = sel(R"({"matchLabels":{"k8s:io.kubernetes.pod.namespace":"other","app":"a"}})");
  s.set_match("k8s", "io.kubernetes.pod.namespace", "mine");
  EXPECT_EQ(s.str(), "{any:app=a, k8s:io.kubernetes.pod.namespace=mine}");
}

TEST(SelectorErrors, BadInput) {
  EXPECT_EQ(sel_error(R"([])"), "sel: must be a mapping (got list)");
  EXPECT_EQ(sel_error(R"({"matchLabel":{}})"), "sel.matchLabel: unknown field (did you mean \"matchLabels\"?)");
  EXPECT_EQ(sel_error(R"({"matchLabels":{"app":1}})"),
            "sel.matchLabels.app: must be a string (got number; quote it in YAML)");
  EXPECT_EQ(sel_error(R"({"matchLabels":{"app":"a b"}})"), "sel.matchLabels.app: \"a b\" is not a valid label value");
  EXPECT_EQ(sel_error(R"({"matchExpressions":[{"key":"a","operator":"Equals","values":["x"]}]})"),
            "sel.matchExpressions[0].operator: \"Equals\" is not a valid operator (In, NotIn, Exists, DoesNotExist)");
  EXPECT_EQ(sel_error(R"({"matchExpressions":[{"key":"a","operator":"In","values":[]}]})"),
            "sel.matchExpressions[0].values: must be non-empty for operator In (the selector could never match)");
  EXPECT_EQ(sel_error(R"({"matchExpressions":[{"key":"a","operator":"In"}]})"),
            "sel.matchExpressions[0].values: must be non-empty for operator In (the selector could never match)");
  EXPECT_EQ(sel_error(R"({"matchExpressions":[{"key":"a","operator":"Exists","values":["x"]}]})"),
            "sel.matchExpressions[0].values: must be empty for operator Exists");
  EXPECT_EQ(sel_error(R"({"matchExpressions":[{"operator":"Exists"}]})"), "sel.matchExpressions[0].key: required");
  EXPECT_EQ(sel_error(R"({"matchExpressions":[{"key":"a","operator":"In","values":[1]}]})"),
            "sel.matchExpressions[0].values[0]: must be a string (got number)");
  EXPECT_EQ(sel_error(R"({"matchLabels":{"reserved:hots":""}})"),
            "sel.matchLabels.reserved:hots: unknown reserved label \"hots\" (known: host, world, unmanaged, health, "
            "init, remote-node, kube-apiserver, ingress, world-ipv4, world-ipv6)");
  EXPECT_EQ(sel_error(R"({"matchLabels":{"cidr:10.0.0.300/8":""}})"),
            "sel.matchLabels.cidr:10.0.0.300/8: \"10.0.0.300/8\" is not a valid CIDR label (e.g. cidr:10.0.0.0/8)");
  EXPECT_EQ(sel_error(R"({"matchLabels":{"k8s:":"x"}})"),
            "sel.matchLabels.k8s:: label key \"k8s:\" has no name after the source");
  EXPECT_EQ(sel_error(R"({"matchLabels":{"a b":"x"}})", SelectorSyntax::K8sPod),
            "sel.matchLabels.a b: \"a b\" is not a valid label key");
}
