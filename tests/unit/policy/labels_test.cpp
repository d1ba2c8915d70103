#include <gtest/gtest.h>

#include "labels/labels.h"

using namespace cpp;
using namespace cpp::labels;
using nlohmann::json;

TEST(Label, ParseWithSource) {
  Label l = Label::parse("k8s:app=web");
  EXPECT_EQ(l.source, "k8s");
  EXPECT_EQ(l.key, "app");
  EXPECT_EQ(l.value, "web");
  EXPECT_EQ(l.str(), "k8s:app=web");
}

TEST(Label, ParseWithoutSourceIsUnspec) {
  Label l = Label::parse("app=web");
  EXPECT_EQ(l.source, "unspec");
  EXPECT_EQ(l.key, "app");
  EXPECT_EQ(l.value, "web");
  EXPECT_EQ(Label::parse("app=web", "k8s").source, "k8s");
}

TEST(Label, ParseReservedWithoutValue) {
  Label l = Label::parse("reserved:host");
  EXPECT_EQ(l.source, "reserved");
  EXPECT_EQ(l.key, "host");
  EXPECT_EQ(l.value, "");
  EXPECT_EQ(l.str(), "reserved:host");
}

TEST(Label, ColonInValueBelongsToValue) {
  Label l = Label::parse("k8s:url=http://x");
  EXPECT_EQ(l.source, "k8s");
  EXPECT_EQ(l.key, "url");
  EXPECT_EQ(l.value, "http://x");
  Label m = Label::parse("team=a:b");
  EXPECT_EQ(m.source, "unspec");
  EXPECT_EQ(m.value, "a:b");
}

TEST(Label, EmptyKeyRejected) {
  EXPECT_THROW(Label::parse("k8s:=x"), std::invalid_argument);
  EXPECT_THROW(Label::parse(""), std::invalid_argument);
}

TEST(Label, NamespaceLabelKeysKeepSlashes) {
  Label l = Label::parse("k8s:io.cilium.k8s.namespace.labels.kubernetes.io/metadata.name=kube-system");
  EXPECT_EQ(l.key, "io.cilium.k8s.namespace.labels.kubernetes.io/metadata.name");
  EXPECT_EQ(l.value, "kube-system");
}

TEST(LabelSet, SortedByKeyAndUpstreamSortedList) {
  LabelSet s{Label::parse("k8s:c=d"), Label::parse("k8s:a=b")};
  EXPECT_EQ(s.sorted_list(), "k8s:a=b;k8s:c=d;");
  EXPECT_EQ(s.strings(), (std::vector<std::string>{"k8s:a=b", "k8s:c=d"}));
  EXPECT_EQ(s.str(), "k8s:a=b, k8s:c=d");
}

TEST(LabelSet, ReservedInSortedListHasEmptyValue) {
  LabelSet s{Label::parse("reserved:host")};
  EXPECT_EQ(s.sorted_list(), "reserved:host=;");
}

TEST(LabelSet, OneLabelPerKey) {
  LabelSet s;
  s.add(Label::parse("k8s:app=a"));
  s.add(Label::parse("container:app=b"));
  EXPECT_EQ(s.size(), 1u);
  EXPECT_EQ(s.find("app")->source, "container");
  EXPECT_TRUE(s.has("any", "app"));
  EXPECT_TRUE(s.has("container", "app"));
  EXPECT_FALSE(s.has("k8s", "app"));
  EXPECT_TRUE(s.remove("app"));
  EXPECT_TRUE(s.empty());
}

TEST(LabelSet, ComparableAndHashable) {
  LabelSet a{Label::parse("k8s:a=1"), Label::parse("k8s:b=2")};
  LabelSet b{Label::parse("k8s:b=2"), Label::parse("k8s:a=1")};
  LabelSet c{Label::parse("k8s:a=1")};
  EXPECT_EQ(a, b);
  EXPECT_EQ(a.hash(), b.hash());
  EXPECT_NE(a, c);
  EXPECT_TRUE(c < a || a < c);
  std::unordered_map<LabelSet, int, LabelSetHash> m;
  m[a] = 1;
  EXPECT_EQ(m.count(b), 1u);
}

TEST(LabelSet, JsonRoundTrip) {
  LabelSet a{Label::parse("k8s:a=1"), Label::parse("reserved:host")};
  EXPECT_EQ(a.to_json(), json::parse(R"(["k8s:a=1","reserved:host"])"));
  EXPECT_EQ(LabelSet::from_json(a.to_json()), a);
  EXPECT_THROW(LabelSet::from_json(json::parse(R"({"a":1})")), std::invalid_argument);
  EXPECT_THROW(LabelSet::from_json(json::parse(R"([1])")), std::invalid_argument);
}

TEST(LabelSet, ParseList) {
  auto s = LabelSet::parse_list("k8s:a=1,k8s:b=2 c=3", "k8s");
  EXPECT_EQ(s.sorted_list(), "k8s:a=1;k8s:b=2;k8s:c=3;");
  auto t = LabelSet::parse_list("k8s:a=1;k8s:b=2;");
  EXPECT_EQ(t.size(), 2u);
}

TEST(LabelSet, ToMapAndWithSource) {
  LabelSet s{Label::parse("k8s:a=1"), Label::parse("reserved:host")};
  auto m = s.to_map();
  EXPECT_EQ(m.at("k8s:a"), "1");
  EXPECT_EQ(m.at("reserved:host"), "");
  EXPECT_EQ(s.with_source("k8s").size(), 1u);
}

TEST(CidrLabels, IPv4Key) {
  auto p = IpPrefix::parse("10.0.0.0/8");
  EXPECT_EQ(cidr_label(*p).str(), "cidr:10.0.0.0/8");
}

TEST(CidrLabels, IPv6KeyUsesDashes) {
  EXPECT_EQ(cidr_label(*IpPrefix::parse("2001:db8::/32")).key, "2001-db8--0/32");
  EXPECT_EQ(cidr_label(*IpPrefix::parse("::/0")).key, "0--0/0");
  EXPECT_EQ(cidr_label(*IpPrefix::parse("::1/128")).key, "0--1/128");
  auto back = parse_cidr_label_key("2001-db8--0/32");
  ASSERT_TRUE(back);
  EXPECT_EQ(back->str(), "2001:db8::/32");
  EXPECT_EQ(parse_cidr_label_key("10.0.0.0/8")->str(), "10.0.0.0/8");
  EXPECT_FALSE(parse_cidr_label_key("nope"));
}

TEST(CidrLabels, IdentityLabelsCarryAllSupernetsAndWorld) {
  auto ls = cidr_identity_labels(*IpPrefix::parse("10.0.0.0/8"));
  EXPECT_EQ(ls.size(), 10u);  // /8../0 = 9, plus reserved:world
  for (const char* k : {"10.0.0.0/8", "10.0.0.0/7", "8.0.0.0/6", "8.0.0.0/5", "0.0.0.0/4", "0.0.0.0/3", "0.0.0.0/2",
                        "0.0.0.0/1", "0.0.0.0/0"})
    EXPECT_TRUE(ls.has("cidr", k)) << k;
  EXPECT_TRUE(ls.has_reserved("world"));
  auto split = cidr_identity_labels(*IpPrefix::parse("2001:db8::/32"), true);
  EXPECT_TRUE(split.has_reserved("world-ipv6"));
  EXPECT_FALSE(split.has_reserved("world"));
  EXPECT_EQ(split.size(), 34u);
}

TEST(ReservedLabels, Sets) {
  EXPECT_EQ(reserved_label_set("host").sorted_list(), "reserved:host=;");
  EXPECT_EQ(reserved_label_set("kube-apiserver").sorted_list(), "reserved:kube-apiserver=;reserved:remote-node=;");
  EXPECT_TRUE(reserved_label_set("bogus").empty());
  EXPECT_TRUE(is_reserved_name("remote-node"));
  EXPECT_FALSE(is_reserved_name("cluster"));
}

namespace {
json pod(const std::string& extra_spec = "") {
  return json::parse(R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"coredns-1","namespace":"kube-system",
    "labels":{"k8s-app":"kube-dns","pod-template-hash":"58f4c86d4d",
              "io.kubernetes.pod.namespace":"spoofed","io.cilium.k8s.policy.serviceaccount":"spoofed"}},
    "spec":{"serviceAccountName":"coredns")" + extra_spec + "}}");
}
json ns_obj() {
  return json::parse(R"({"apiVersion":"v1","kind":"Namespace","metadata":{"name":"kube-system",
    "labels":{"kubernetes.io/metadata.name":"kube-system","team":"core"}}})");
}
}  // namespace

TEST(PodLabels, DerivedLabelsLikeTheSeed) {
  json n = ns_obj();
  auto all = pod_labels(pod(), &n);
  EXPECT_EQ(all.find("io.kubernetes.pod.namespace")->value, "kube-system");
  EXPECT_EQ(all.find("io.cilium.k8s.policy.serviceaccount")->value, "coredns");
  EXPECT_EQ(all.find("io.cilium.k8s.policy.cluster")->value, "default");
  EXPECT_EQ(all.find("io.cilium.k8s.namespace.labels.team")->value, "core");
  EXPECT_EQ(all.find("k8s-app")->source, "k8s");
  EXPECT_TRUE(all.has("k8s", "pod-template-hash"));

  // The seed's CiliumEndpoint identity labels for coredns.
  auto sec = pod_security_labels(pod(), &n);
  EXPECT_EQ(sec.strings(),
            (std::vector<std::string>{
                "k8s:io.cilium.k8s.namespace.labels.kubernetes.io/metadata.name=kube-system",
                "k8s:io.cilium.k8s.namespace.labels.team=core",
                "k8s:io.cilium.k8s.policy.cluster=default",
                "k8s:io.cilium.k8s.policy.serviceaccount=coredns",
                "k8s:io.kubernetes.pod.namespace=kube-system",
                "k8s:k8s-app=kube-dns",
            }));
}

TEST(PodLabels, ClusterNameAndNoNamespaceObject) {
  PodLabelOptions o;
  o.cluster_name = "cluster1";
  auto all = pod_labels(pod(), nullptr, o);
  EXPECT_EQ(all.find("io.cilium.k8s.policy.cluster")->value, "cluster1");
  for (const auto& l : all) EXPECT_EQ(l.key.rfind("io.cilium.k8s.namespace.labels", 0), std::string::npos);
}

TEST(PodLabels, NoServiceAccountNoLabel) {
  json p = json::parse(R"({"metadata":{"name":"a"},"spec":{}})");
  auto all = pod_labels(p, nullptr);
  EXPECT_FALSE(all.has("k8s", "io.cilium.k8s.policy.serviceaccount"));
  EXPECT_EQ(all.find("io.kubernetes.pod.namespace")->value, "default");
  EXPECT_THROW(pod_labels(json::parse(R"({"metadata":{}})"), nullptr), std::invalid_argument);
}

TEST(LabelFilter, DefaultIgnoresKubernetesNoise) {
  const auto& f = LabelFilter::default_filter();
  auto rel = [&](const std::string& s) { return f.relevant(Label::parse(s)); };
  EXPECT_TRUE(rel("k8s:app=web"));
  EXPECT_TRUE(rel("k8s:io.kubernetes.pod.namespace=x"));
  EXPECT_TRUE(rel("k8s:io.cilium.k8s.namespace.labels.kubernetes.io/metadata.name=x"));
  EXPECT_TRUE(rel("k8s:app.kubernetes.io/name=web"));
  EXPECT_TRUE(rel("k8s:io.cilium.k8s.policy.serviceaccount=sa"));
  EXPECT_TRUE(rel("k8s:io.cilium.k8s.policy.cluster=default"));
  EXPECT_TRUE(rel("reserved:host"));
  EXPECT_FALSE(rel("k8s:pod-template-hash=abc"));
  EXPECT_FALSE(rel("k8s:controller-revision-hash=abc"));
  EXPECT_FALSE(rel("k8s:pod-template-generation=1"));
  EXPECT_FALSE(rel("k8s:io.kubernetes.container.name=x"));
  EXPECT_FALSE(rel("k8s:kubernetes.io/hostname=n1"));
  EXPECT_FALSE(rel("k8s:statefulset.kubernetes.io/pod-name=web-0"));
  EXPECT_FALSE(rel("k8s:apps.kubernetes.io/pod-index=0"));
  EXPECT_FALSE(rel("k8s:batch.kubernetes.io/job-completion-index=3"));
  EXPECT_FALSE(rel("k8s:failure-domain.beta.kubernetes.io/zone=z"));
  EXPECT_FALSE(rel("k8s:k8s.io/foo=x"));
  EXPECT_FALSE(rel("k8s:annotation.foo=x"));
  EXPECT_FALSE(rel("k8s:etcd_node=x"));
  // Escaped dots: "k8sXio" is not "k8s.io".
  EXPECT_TRUE(rel("k8s:k8sXio=x"));
  // Not anchored elsewhere than the key's start.
  EXPECT_TRUE(rel("k8s:my.io.kubernetes=x"));
}

TEST(LabelFilter, UserInclusivePatternMakesAllowList) {
  auto f = LabelFilter::with_user_patterns("k8s:app k8s:!app-secret");
  auto rel = [&](const std::string& s) { return f.relevant(Label::parse(s)); };
  EXPECT_TRUE(rel("k8s:app=web"));
  EXPECT_TRUE(rel("k8s:app-team=a"));  // prefix match
  EXPECT_FALSE(rel("k8s:env=prod"));   // not in the allow list any more
  EXPECT_TRUE(rel("k8s:io.kubernetes.pod.namespace=x"));  // default inclusive patterns stay
  EXPECT_TRUE(rel("reserved:host"));
  EXPECT_FALSE(rel("container:app=x"));  // source-specific pattern
  EXPECT_THROW(LabelFilter::with_user_patterns("k8s:("), std::invalid_argument);
}

TEST(LabelFilter, UserExclusivePatternsOnly) {
  auto f = LabelFilter::with_user_patterns("k8s:!job-name");
  EXPECT_FALSE(f.relevant(Label::parse("k8s:job-name=x")));
  EXPECT_TRUE(f.relevant(Label::parse("k8s:env=prod")));
  auto [id, info] = f.split(LabelSet{Label::parse("k8s:job-name=x"), Label::parse("k8s:env=prod")});
  EXPECT_EQ(id.sorted_list(), "k8s:env=prod;");
  EXPECT_EQ(info.sorted_list(), "k8s:job-name=x;");
}
