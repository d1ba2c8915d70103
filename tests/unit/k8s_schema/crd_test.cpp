// The CRDs in install/kubernetes/crds: one per cilium.io kind the project
// knows, with the store's plural, scope and versions; and CrdSchemas'
// loading, lookup and validation of whole objects.
#include "k8s/schema/crd.h"

#include "store/resource.h"
#include "store/yaml.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>

using cpp::k8s::schema::Crd;
using cpp::k8s::schema::CrdSchemas;
using cpp::k8s::schema::json;

namespace {

const CrdSchemas& repo_crds() {
  static const CrdSchemas crds = CrdSchemas::load_dir(CILIUMPP_SOURCE_DIR "/install/kubernetes/crds");
  return crds;
}

std::string load_error(const std::string& yaml) {
  CrdSchemas c;
  try {
    for (const auto& d : cpp::store::parse_yaml_documents(yaml)) c.add(d, "test.yaml");
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "accepted";
}

const char* kMinimalCrd = R"(
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  names: {kind: Widget, plural: widgets}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              size: {type: integer, minimum: 1}
)";

}  // namespace

TEST(RepoCrds, OneCrdPerCiliumKindMatchingTheStore) {
  const auto& crds = repo_crds();
  size_t cilium_kinds = 0;
  for (const auto& k : cpp::store::known_kinds()) {
    if (k.group() != "cilium.io") continue;
    ++cilium_kinds;
    const Crd* crd = crds.find_plural("cilium.io", k.plural);
    ASSERT_NE(crd, nullptr) << "no CRD for " << k.kind;
    EXPECT_EQ(crd->kind, k.kind);
    EXPECT_EQ(crd->namespaced, k.namespaced) << k.kind;
    EXPECT_EQ(crd->list_kind, k.kind + "List");
    for (const auto& av : k.api_versions)
      EXPECT_EQ(crds.find_kind(av, k.kind), crd) << k.kind << " is not served at " << av;
    size_t served = std::count_if(crd->versions.begin(), crd->versions.end(), [](const auto& v) { return v.served; });
    EXPECT_EQ(served, k.api_versions.size()) << k.kind << " serves a version the store does not accept";
  }
  EXPECT_EQ(crds.crds().size(), cilium_kinds) << "a CRD for a kind the project does not know";
}

TEST(RepoCrds, UpstreamNamesAndStorageVersions) {
  const auto& crds = repo_crds();
  auto crd = [&](const char* plural) {
    const Crd* c = crds.find_plural("cilium.io", plural);
    if (!c) throw std::runtime_error(std::string("missing ") + plural);
    return c;
  };
  EXPECT_EQ(crd("ciliumnetworkpolicies")->short_names, (std::vector<std::string>{"cnp", "ciliumnp"}));
  EXPECT_EQ(crd("ciliumclusterwidenetworkpolicies")->short_names, std::vector<std::string>{"ccnp"});
  EXPECT_EQ(crd("ciliumendpoints")->short_names, (std::vector<std::string>{"cep", "ciliumep"}));
  EXPECT_EQ(crd("ciliumnodes")->short_names, (std::vector<std::string>{"cn", "ciliumn"}));
  EXPECT_EQ(crd("ciliumbgppeeringpolicies")->short_names, std::vector<std::string>{"bgpp"});
  // Upstream 1.15 stores these at v2alpha1; v2 is served for later YAML.
  for (const char* p : {"ciliumloadbalancerippools", "ciliuml2announcementpolicies", "ciliumpodippools",
                        "ciliumnodeconfigs", "ciliumcidrgroups", "ciliumbgppeeringpolicies"})
    EXPECT_EQ(crd(p)->storage_version().name, "v2alpha1") << p;
  EXPECT_EQ(crd("ciliumnetworkpolicies")->storage_version().name, "v2");
  EXPECT_TRUE(crd("ciliumnetworkpolicies")->storage_version().status_subresource);
  EXPECT_TRUE(crd("ciliumnodes")->storage_version().status_subresource);
  EXPECT_FALSE(crd("ciliumendpoints")->storage_version().status_subresource);
  EXPECT_EQ(crd("ciliumnodes")->singular, "ciliumnode");
}

// CiliumNetworkPolicy and CiliumClusterwideNetworkPolicy share one rule
// language; their CRD files must not drift apart.
TEST(RepoCrds, PolicyRuleSchemasIdentical) {
  auto read = [](const char* file) {
    auto docs = cpp::store::parse_yaml_documents([&] {
      std::ifstream in(std::string(CILIUMPP_SOURCE_DIR "/install/kubernetes/crds/") + file);
      std::stringstream ss;
      ss << in.rdbuf();
      return ss.str();
    }());
    return docs.at(0)["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"];
  };
  json cnp = read("ciliumnetworkpolicies.yaml"), ccnp = read("ciliumclusterwidenetworkpolicies.yaml");
  for (const char* f : {"spec", "specs", "status"}) EXPECT_EQ(cnp[f], ccnp[f]) << f;
}

TEST(CrdSchemas, ValidatesByApiVersionAndKind) {
  CrdSchemas c;
  c.add(cpp::store::parse_yaml_documents(kMinimalCrd).at(0), "test.yaml");
  EXPECT_TRUE(c.validate(json::parse(R"({"apiVersion":"example.com/v1","kind":"Widget",
      "metadata":{"name":"w"},"spec":{"size":2}})"))
                  .empty());
  auto e = c.validate(json::parse(R"({"apiVersion":"example.com/v1","kind":"Widget",
      "metadata":{"name":"w"},"spec":{"size":0,"colour":"red"}})"));
  ASSERT_EQ(e.size(), 2u);
  EXPECT_EQ(e[0], "spec.size: Invalid value: 0: spec.size in body should be greater than or equal to 1");
  EXPECT_EQ(e[1], "unknown field \"spec.colour\"");
  EXPECT_EQ(
      c.validate(json::parse(R"({"apiVersion":"example.com/v2","kind":"Widget","metadata":{"name":"w"}})")),
      std::vector<std::string>{"no CustomResourceDefinition serves kind \"Widget\" in version \"example.com/v2\""});
  EXPECT_EQ(c.validate(json::parse(R"({"kind":"Widget"})")), std::vector<std::string>{"apiVersion: Required value"});

  json obj = json::parse(R"({"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w"},
      "spec":{"size":2,"colour":"red"}})");
  EXPECT_EQ(c.prune(obj), std::vector<std::string>{"unknown field \"spec.colour\""});
  EXPECT_EQ(obj["spec"], json::parse(R"({"size":2})"));
  EXPECT_EQ(c.find_plural("example.com", "widgets")->kind, "Widget");

  json body = json::parse(R"({"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w"},
      "spec":{"colour":"red"}})");
  EXPECT_EQ(c.admit(body), std::vector<std::string>{"unknown field \"spec.colour\""}) << "strict: an error";
  EXPECT_TRUE(c.admit(body, false).empty()) << "lenient: pruned";
  EXPECT_EQ(body["spec"], json::object());
  EXPECT_EQ(c.find_plural("example.com", "gadgets"), nullptr);
}

TEST(CrdSchemas, MalformedCrdsNameTheField) {
  std::string crd = kMinimalCrd;
  auto with = [&](const std::string& from, const std::string& to) {
    std::string s = crd;
    s.replace(s.find(from), from.size(), to);
    return load_error(s);
  };
  EXPECT_EQ(load_error(kMinimalCrd), "accepted");
  EXPECT_EQ(with("name: widgets.example.com", "name: widget.example.com"),
            "test.yaml: metadata.name: must be spec.names.plural + \".\" + spec.group (widgets.example.com)");
  EXPECT_EQ(with("scope: Namespaced", "scope: Global"), "test.yaml: spec.scope: must be Namespaced or Cluster");
  EXPECT_EQ(with("storage: true", "storage: false"),
            "test.yaml: spec.versions: exactly one version must be the storage version");
  EXPECT_EQ(with("size: {type: integer, minimum: 1}", "size: {type: integer, minimum: one}"),
            "widgets.example.com v1 openAPIV3Schema.properties.spec.properties.size.minimum: must be a number");
  EXPECT_EQ(load_error(std::string(kMinimalCrd) + "---\n" + kMinimalCrd),
            "test.yaml: spec.names: group example.com kind Widget is already defined by test.yaml");
  EXPECT_THROW(CrdSchemas::load_dir("/nonexistent-ciliumpp-dir"), std::invalid_argument);
}
