#include <gtest/gtest.h>

#include <stdexcept>

#include "store/resource.h"
#include "store/yaml.h"

using namespace cpp::store;
using nlohmann::json;

namespace {
std::string error_of(const json& obj, std::optional<size_t> doc = std::nullopt) {
  try {
    validate_resource(obj, doc);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

json cnp() {
  return json::parse(R"({"apiVersion":"cilium.io/v2","kind":"CiliumNetworkPolicy",
    "metadata":{"name":"allow"},"spec":{"endpointSelector":{}}})");
}
}  // namespace

TEST(Resource, KnownKinds) {
  EXPECT_EQ(known_kinds().size(), 20u);
  ASSERT_NE(find_kind("CiliumNetworkPolicy"), nullptr);
  EXPECT_TRUE(find_kind("CiliumNetworkPolicy")->namespaced);
  EXPECT_FALSE(find_kind("CiliumClusterwideNetworkPolicy")->namespaced);
  EXPECT_FALSE(find_kind("Node")->namespaced);
  EXPECT_EQ(find_kind("Pod")->group(), "");
  EXPECT_EQ(find_kind("EndpointSlice")->group(), "discovery.k8s.io");
  // authSecretRef of CiliumBGPPeeringPolicy names Secrets of a namespace.
  ASSERT_NE(find_kind("Secret"), nullptr);
  EXPECT_TRUE(find_kind("Secret")->namespaced);
  EXPECT_EQ(find_kind("ciliumnetworkpolicy"), nullptr);
  EXPECT_EQ(find_kind("Deployment"), nullptr);
}

TEST(Resource, ValidObjects) {
  EXPECT_EQ(error_of(cnp()), "");
  EXPECT_EQ(error_of(json::parse(R"({"apiVersion":"cilium.io/v2alpha1","kind":"CiliumBGPPeeringPolicy",
      "metadata":{"name":"rack0"},"spec":{}})")), "");
  // Upstream 1.15 serves the LB IP pool at v2alpha1; later releases at v2.
  EXPECT_EQ(error_of(json::parse(R"({"apiVersion":"cilium.io/v2alpha1","kind":"CiliumLoadBalancerIPPool",
      "metadata":{"name":"pool"},"spec":{}})")), "");
  EXPECT_EQ(error_of(json::parse(R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"p",
      "namespace":"cilium-test","labels":{"app":"x","port":"80"}}})")), "");
}

TEST(Resource, RequiredFields) {
  EXPECT_EQ(error_of(json::parse(R"({"kind":"Pod","metadata":{"name":"p"}})")), "apiVersion: required");
  EXPECT_EQ(error_of(json::parse(R"({"apiVersion":"v1","metadata":{"name":"p"}})")), "kind: required");
  EXPECT_EQ(error_of(json::parse(R"({"apiVersion":"v1","kind":"Pod"})"), 2), "document 2: metadata: required");
  EXPECT_EQ(error_of(json::parse(R"({"apiVersion":"v1","kind":"Pod","metadata":{}})"), 2),
            "document 2: metadata.name: required");
  EXPECT_EQ(error_of(json::array(), 1), "document 1: (root): must be a mapping, got array");
}

TEST(Resource, KindAndVersionChecked) {
  EXPECT_EQ(error_of(json::parse(R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"}})")),
            "kind: unknown kind \"Deployment\"");
  std::string e = error_of(json::parse(R"({"apiVersion":"cilium.io/v1","kind":"CiliumNetworkPolicy",
      "metadata":{"name":"x"},"spec":{}})"));
  EXPECT_EQ(e.rfind("apiVersion: \"cilium.io/v1\" does not serve kind CiliumNetworkPolicy", 0), 0u) << e;
}

TEST(Resource, FieldPathsInErrors) {
  json o = cnp();
  o["metadata"]["labels"] = {{"port", 80}};
  EXPECT_EQ(error_of(o, 3).rfind("document 3: metadata.labels.port: must be a string", 0), 0u);
  o = cnp();
  o["metadata"]["name"] = "Bad_Name";
  EXPECT_EQ(error_of(o).rfind("metadata.name: \"Bad_Name\" is not a valid name", 0), 0u);
  o = cnp();
  o["metadata"]["namespace"] = "a.b";
  EXPECT_EQ(error_of(o).rfind("metadata.namespace:", 0), 0u);
  o = cnp();
  o["spec"] = json::array();
  EXPECT_EQ(error_of(o), "spec: must be a mapping");
  o = cnp();
  o.erase("spec");
  EXPECT_EQ(error_of(o), "spec: required (or specs)");
  o["specs"] = json::array({json::object(), 5});
  EXPECT_EQ(error_of(o), "specs[1]: must be a mapping");
}

TEST(Resource, NormalizeDefaultsNamespace) {
  json o = normalize_resource(cnp());
  EXPECT_EQ(o["metadata"]["namespace"], "default");
  json ccnp = json::parse(R"({"apiVersion":"cilium.io/v2","kind":"CiliumClusterwideNetworkPolicy",
      "metadata":{"name":"c","namespace":"ignored"},"spec":{}})");
  json n = normalize_resource(ccnp);
  EXPECT_FALSE(n["metadata"].contains("namespace"));
  EXPECT_EQ(key_of(n).ns, "");
  EXPECT_EQ(key_of(o), (ResourceKey{"CiliumNetworkPolicy", "default", "allow"}));
  EXPECT_EQ(display_name(o), "ciliumnetworkpolicy.cilium.io/allow");
  EXPECT_EQ(display_name(json::parse(R"({"kind":"Pod","metadata":{"name":"p"}})")), "pod/p");
}

TEST(Resource, UpstreamPolicyYamlValidates) {
  // A policy as written for upstream Cilium (connectivity suite's client-egress-only-dns).
  auto docs = parse_yaml_documents(R"(
apiVersion: "cilium.io/v2"
kind: CiliumNetworkPolicy
metadata:
  name: client-egress-only-dns
spec:
  endpointSelector:
    matchLabels:
      kind: client
  egress:
  - toPorts:
    - ports:
      - port: "53"
        protocol: ANY
      rules:
        dns:
        - matchPattern: "*"
    toEndpoints:
    - matchExpressions:
      - { key: 'k8s-app', operator: In, values: [ "kube-dns", "coredns", "node-local-dns", "nodelocaldns" ] }
      - { key: 'io.kubernetes.pod.namespace', operator: In, values: [ "kube-system" ] }
)");
  ASSERT_EQ(docs.size(), 1u);
  EXPECT_EQ(error_of(docs[0]), "");
  EXPECT_EQ(docs[0]["spec"]["egress"][0]["toPorts"][0]["ports"][0]["port"], "53");
}
