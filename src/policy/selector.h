#pragma once
// Label selectors over security labels (upstream api.EndpointSelector).
//
// A selector is a conjunction of requirements. A requirement's key carries a
// source ("k8s:app"); a key written without one ("app") has source "any" and
// matches a label of that key from every source, as upstream. The empty
// selector matches every label set.
#include <nlohmann/json.hpp>

#include <compare>
#include <string>
#include <string_view>
#include <vector>

#include "labels/labels.h"
#include "policy/types.h"

namespace cpp::policy {

enum class SelectorOp { In, NotIn, Exists, DoesNotExist };
const char* to_string(SelectorOp op);

struct Requirement {
  std::string source = labels::kSourceAny;
  std::string key;
  SelectorOp op = SelectorOp::In;
  std::vector<std::string> values;  // sorted, unique

  bool matches(const labels::LabelSet& ls) const;
  // "k8s:app=web" for a single-valued In, "any:env in (a,b)", "k8s:x exists", "!reserved:world".
  std::string str() const;
  bool operator==(const Requirement&) const = default;
  auto operator<=>(const Requirement&) const = default;
};

class Selector {
 public:
  Selector() = default;
  explicit Selector(std::vector<Requirement> reqs);
  // {source:key = value} for each label.
  static Selector from_labels(const labels::LabelSet& ls);
  // A selector for one label ("reserved:world" → reserved:world In [""]).
  static Selector for_label(const labels::Label& l);

  bool matches(const labels::LabelSet& ls) const;
  bool empty() const { return reqs_.empty(); }
  const std::vector<Requirement>& requirements() const { return reqs_; }

  // True when a requirement names exactly source:key (upstream HasKey).
  bool has_key(std::string_view source, std::string_view key) const;
  bool has_source(std::string_view source) const;

  void add(Requirement r);
  // matchLabels semantics: source:key In [value], replacing an existing
  // single-valued In requirement for the same source:key.
  void set_match(std::string_view source, std::string_view key, std::string_view value);

  // Canonical text, stable for equal selectors: "{k8s:app=web, any:x exists}", "{}".
  std::string str() const;
  bool operator==(const Selector& o) const { return reqs_ == o.reqs_; }
  auto operator<=>(const Selector& o) const { return reqs_ <=> o.reqs_; }

 private:
  void normalize();
  std::vector<Requirement> reqs_;  // sorted, unique
};

// How selector keys are read.
enum class SelectorSyntax {
  Cilium,        // CiliumNetworkPolicy: "k8s:app", "reserved:host", "app" (= any:app)
  K8sPod,        // NetworkPolicy podSelector: keys are Kubernetes label keys, source k8s
  K8sNamespace,  // NetworkPolicy namespaceSelector: keys become k8s:io.cilium.k8s.namespace.labels.<key>
};

// Parses {matchLabels, matchExpressions}. Every error is a PolicyError whose
// path starts with `path`: unknown fields, wrong types, invalid keys or
// values, unknown operators (operators are matched case-insensitively, as
// upstream's documentation examples write "in"), In/NotIn without values,
// Exists/DoesNotExist with values, unknown reserved labels, bad cidr: keys.
// null or {} is the empty selector.
Selector parse_selector(const nlohmann::json& j, const std::string& path, SelectorSyntax syntax);

}  // namespace cpp::policy
