// examples/ and the repo's test YAML against the CRDs and the project's own
// parsers: what users write must mean the same to the API server (schema)
// and to ciliumpp (store validation, policy/BGP/LB-IPAM parsers).
#include "bgp/peering_policy.h"
#include "k8s/schema/crd.h"
#include "policy/rules.h"
#include "policy/types.h"
#include "service/lbipam.h"
#include "store/resource.h"
#include "store/yaml.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

namespace fs = std::filesystem;
using cpp::k8s::schema::CrdSchemas;
using cpp::k8s::schema::json;

namespace {

const fs::path kRoot = CILIUMPP_SOURCE_DIR;

const CrdSchemas& crds() {
  static const CrdSchemas c = CrdSchemas::load_dir(kRoot / "install/kubernetes/crds");
  return c;
}

std::string read(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<fs::path> yaml_files(const fs::path& dir, bool recursive) {
  std::vector<fs::path> out;
  auto take = [&](const fs::directory_entry& e) {
    if (e.is_regular_file() && (e.path().extension() == ".yaml" || e.path().extension() == ".yml"))
      out.push_back(e.path());
  };
  if (recursive)
    for (const auto& e : fs::recursive_directory_iterator(dir)) take(e);
  else
    for (const auto& e : fs::directory_iterator(dir)) take(e);
  std::sort(out.begin(), out.end());
  return out;
}

struct Doc {
  std::string where;  // "examples/x.yaml document 2"
  json value;
};

std::vector<Doc> docs_of(const fs::path& file) {
  std::vector<Doc> out;
  std::string rel = fs::relative(file, kRoot).string();
  for (auto& d : cpp::store::parse_yaml_stream(read(file)))
    out.push_back({rel + " document " + std::to_string(d.index), std::move(d.value)});
  return out;
}

bool crd_kind(const json& obj) {
  return obj.is_object() && obj.contains("apiVersion") && obj.contains("kind") &&
         crds().find_kind(obj["apiVersion"].get<std::string>(), obj["kind"].get<std::string>());
}

// "" when ciliumpp accepts the object as `cilium-lab apply` and the agents
// do: store validation for every kind, then the parser of the subsystem
// that consumes the kind.
std::string project_rejects(const json& obj) {
  try {
    json n = cpp::store::normalize_resource(obj);
    const std::string kind = n["kind"];
    if (kind == "CiliumNetworkPolicy" || kind == "CiliumClusterwideNetworkPolicy" || kind == "NetworkPolicy")
      cpp::policy::parse_policy(n);
    else if (kind == "CiliumCIDRGroup")
      cpp::policy::parse_cidr_group(n);
    else if (kind == "CiliumLoadBalancerIPPool")
      cpp::service::lbipam::parse_pool(n);
    else if (kind == "CiliumBGPPeeringPolicy") {
      auto p = cpp::bgp::parse_policy_object(n);
      if (!p.policy) return p.error;
    }
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

std::string joined(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& e : v) out += "\n  " + e;
  return out;
}

}  // namespace

TEST(Examples, ValidAgainstCrdsAndAcceptedByCiliumpp) {
  size_t n = 0;
  for (const auto& f : yaml_files(kRoot / "examples", false)) {
    for (const auto& d : docs_of(f)) {
      ++n;
      EXPECT_EQ(project_rejects(d.value), "") << d.where << " is rejected by ciliumpp";
      if (!crd_kind(d.value)) continue;
      auto e = crds().validate(d.value);
      EXPECT_TRUE(e.empty()) << d.where << " is rejected by its CRD:" << joined(e);
      // What the API server stores (upstream's defaults filled in) must mean
      // the same to ciliumpp.
      json stored = d.value;
      e = crds().admit(stored);
      EXPECT_TRUE(e.empty()) << d.where << " is not admitted:" << joined(e);
      EXPECT_EQ(project_rejects(stored), "") << d.where << " with defaults applied is rejected by ciliumpp";
    }
  }
  EXPECT_GE(n, 12u);
}

TEST(Examples, EveryCrdKindHasOne) {
  std::set<std::string> seen;
  for (const auto& f : yaml_files(kRoot / "examples", false))
    for (const auto& d : docs_of(f)) seen.insert(d.value["kind"].get<std::string>());
  for (const auto& c : crds().crds()) EXPECT_TRUE(seen.count(c.kind)) << "no example of " << c.kind;
}

// Valid upstream YAML for features ciliumpp does not have yet: the API
// server accepts it, ciliumpp refuses it by name instead of enforcing part.
TEST(Examples, UnsupportedFeaturesPassTheSchemaAndAreRefusedByName) {
  auto files = yaml_files(kRoot / "examples/unsupported", false);
  EXPECT_FALSE(files.empty());
  for (const auto& f : files)
    for (const auto& d : docs_of(f)) {
      auto e = crds().validate(d.value);
      EXPECT_TRUE(e.empty()) << d.where << ":" << joined(e);
      EXPECT_NE(project_rejects(d.value).find("not supported"), std::string::npos)
          << d.where << ": " << project_rejects(d.value);
    }
}

// Each file lists, one `# expect: ` line per error, exactly what the API
// server says about it.
TEST(Examples, InvalidOnesRejectedWithTheExpectedErrors) {
  auto files = yaml_files(kRoot / "examples/invalid", false);
  EXPECT_GE(files.size(), 10u);
  for (const auto& f : files) {
    std::multiset<std::string> expected;
    std::istringstream lines(read(f));
    for (std::string line; std::getline(lines, line);)
      if (line.rfind("# expect: ", 0) == 0) expected.insert(line.substr(10));
    auto docs = docs_of(f);
    ASSERT_EQ(docs.size(), 1u) << f;
    ASSERT_FALSE(expected.empty()) << f << " has no # expect: line";
    auto errors = crds().validate(docs[0].value);
    std::multiset<std::string> got(errors.begin(), errors.end());
    EXPECT_EQ(got, expected) << docs[0].where << " errors:" << joined(errors);
  }
}

// The YAML the e2e tests apply is what users write. A document ciliumpp
// accepts must pass its CRD (or the API server would refuse what the lab
// takes), and keep its meaning once the server fills in defaults. A
// document both refuse is deliberately bad test data. A document only
// ciliumpp refuses is printed: the schema cannot say why (e.g. bad-port's
// "70000" matches a prefix of upstream's unanchored port pattern).
TEST(Examples, RepoTestDataAgreesWithCrds) {
  // Deliberately bad test data the schema alone already refuses, and why.
  const std::map<std::string, std::string> schema_rejects = {
      {"tests/e2e/testdata/policy/bad-cidr.yaml document 2",
       R"(spec.egress[0].toCIDR[0]: Invalid value: "10.0.0.300/24")"},
      {"tests/e2e/testdata/policy/bad-unknown-field.yaml document 1",
       R"(unknown field "spec.ingress[0].fromEndpoint")"},
      {"tests/e2e/testdata/bgp/bad-policy.yaml document 1",
       "spec.virtualRouters[0].neighbors[0].holdTimeSeconds in body should be greater than or equal to 3"},
      {"tests/e2e/testdata/policies-bad.yaml document 2",
       "metadata.name: Required value: name or generateName is required"},
  };
  size_t checked = 0, listed = 0;
  for (const auto& f : yaml_files(kRoot / "tests/e2e/testdata", true)) {
    for (const auto& d : docs_of(f)) {
      if (!crd_kind(d.value)) continue;
      ++checked;
      auto errors = crds().validate(d.value);
      std::string refused = project_rejects(d.value);
      if (auto it = schema_rejects.find(d.where); it != schema_rejects.end()) {
        ++listed;
        EXPECT_TRUE(std::any_of(errors.begin(), errors.end(),
                                [&](const std::string& e) { return e.find(it->second) != std::string::npos; }))
            << d.where << " should fail with " << it->second << ", got:" << joined(errors);
        continue;
      }
      if (!refused.empty()) {
        if (errors.empty()) std::cout << "note: only ciliumpp refuses " << d.where << ": " << refused << "\n";
        continue;
      }
      EXPECT_TRUE(errors.empty()) << d.where << " is accepted by ciliumpp but rejected by its CRD:" << joined(errors);
      json stored = d.value;
      crds().admit(stored);
      EXPECT_EQ(project_rejects(stored), "") << d.where << " with defaults applied is rejected by ciliumpp";
    }
  }
  EXPECT_EQ(listed, schema_rejects.size()) << "a listed test file moved or changed";
  EXPECT_GE(checked, 20u);
}
