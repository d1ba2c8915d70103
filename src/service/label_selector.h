#pragma once
// Kubernetes label selectors (metav1.LabelSelector: matchLabels and
// matchExpressions) over plain string labels, as CiliumLoadBalancerIPPool's
// serviceSelector uses them. The policy engine's selector works on
// source-qualified security labels and identities; this one has no sources.
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace cpp::service {

struct LabelRequirement {
  enum class Op { In, NotIn, Exists, DoesNotExist };
  std::string key;
  Op op = Op::In;
  std::vector<std::string> values;
  bool operator==(const LabelRequirement&) const = default;
};

struct LabelSelector {
  std::vector<LabelRequirement> reqs;  // all must hold; none = matches everything
  bool matches(const std::map<std::string, std::string>& labels) const;
  bool operator==(const LabelSelector&) const = default;
};

// Parses {matchLabels, matchExpressions}; errors are std::invalid_argument
// naming the field under `path` (operators as Kubernetes spells them).
LabelSelector parse_label_selector(const nlohmann::json& j, const std::string& path);

}  // namespace cpp::service
