#pragma once
// Helpers shared by the policy unit tests.
#include <string>
#include <vector>

#include "labels/labels.h"
#include "policy/engine.h"
#include "store/yaml.h"

namespace policy_test {

using cpp::labels::Label;
using cpp::labels::LabelSet;
using nlohmann::json;

inline LabelSet L(std::initializer_list<const char*> ls) {
  LabelSet s;
  for (auto* x : ls) s.add(Label::parse(x));
  return s;
}

// A pod's security labels in namespace `ns` with extra k8s labels "k=v".
inline LabelSet pod(const std::string& ns, std::initializer_list<const char*> extra, const std::string& sa = "",
                    const std::string& cluster = "default") {
  LabelSet s;
  s.add(Label{"k8s", "io.kubernetes.pod.namespace", ns});
  s.add(Label{"k8s", "io.cilium.k8s.policy.cluster", cluster});
  s.add(Label{"k8s", "io.cilium.k8s.namespace.labels.kubernetes.io/metadata.name", ns});
  if (!sa.empty()) s.add(Label{"k8s", "io.cilium.k8s.policy.serviceaccount", sa});
  for (auto* x : extra) s.add(Label::parse(x, "k8s"));
  return s;
}

inline json yaml(const std::string& text) {
  auto docs = cpp::store::parse_yaml_documents(text);
  if (docs.size() != 1) throw std::runtime_error("expected one YAML document");
  return docs[0];
}

inline std::vector<json> yamls(const std::string& text) { return cpp::store::parse_yaml_documents(text); }

// "ingress id=256 ANY allow" lines, sorted by key.
inline std::vector<std::string> render(const std::map<cpp::policy::MapKey, cpp::policy::MapValue>& m,
                                       bool with_localhost = false) {
  std::vector<std::string> out;
  for (const auto& [k, v] : m) {
    if (!with_localhost && v.cookie == cpp::policy::kCookieAllowLocalhost) continue;
    out.push_back(k.str() + (v.deny ? " deny" : " allow"));
  }
  return out;
}

inline std::string error_of(const json& obj) {
  try {
    cpp::policy::parse_policy(obj);
  } catch (const cpp::policy::PolicyError& e) {
    return e.what();
  }
  return "";
}

}  // namespace policy_test
