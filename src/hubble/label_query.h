#pragma once
// Kubernetes label selector text ("app=web,tier in (a,b),!canary") over
// Cilium label strings ("k8s:app=web"), as Hubble's label filters use it.
// A key may name the label source ("k8s:app", "reserved:host"); without a
// source (or with "any:") it matches the key from every source.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cpp::hubble {

class LabelQuery {
 public:
  enum class Op { Exists, DoesNotExist, In, NotIn, Gt, Lt };
  struct Requirement {
    std::string source;  // empty: any source
    std::string key;
    Op op = Op::Exists;
    std::vector<std::string> values;  // In / NotIn ("=" and "!=" have one)
    int64_t number = 0;               // Gt / Lt
  };

  // Operators: "k", "!k", "k=v", "k==v", "k!=v", "k in (a,b)",
  // "k notin (a,b)", "k>N", "k<N", joined by ','. An empty selector
  // matches everything. Throws std::invalid_argument naming the position.
  static LabelQuery parse(std::string_view selector);

  // labels: "source:key=value" or "source:key" strings.
  bool matches(const std::vector<std::string>& labels) const;

  const std::vector<Requirement>& requirements() const { return reqs_; }

 private:
  std::vector<Requirement> reqs_;
};

}  // namespace cpp::hubble
