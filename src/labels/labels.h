#pragma once
// Security labels: the currency of identities and policy selectors.
//
// A label is {source, key, value}; its string form is "source:key=value"
// ("source:key" when the value is empty), as upstream Cilium prints it.
// Sources: k8s (Kubernetes pod/namespace labels), reserved (the reserved
// identities: host, world, ...), cidr (CIDR identities), unspec (a label
// parsed without a source) and any (selector side only: matches every source).
//
// A LabelSet holds at most one label per key (as upstream's map keyed by
// label key), kept sorted by key, so it is comparable and hashable; its
// canonical string is upstream's sorted KV-store form "k8s:a=b;k8s:c=d;".
#include <nlohmann/json.hpp>

#include <compare>
#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/ip.h"

namespace cpp::labels {

inline constexpr const char* kSourceK8s = "k8s";
inline constexpr const char* kSourceReserved = "reserved";
inline constexpr const char* kSourceCidr = "cidr";
inline constexpr const char* kSourceUnspec = "unspec";
inline constexpr const char* kSourceAny = "any";

// Labels Cilium derives for every pod (upstream pkg/k8s/apis/cilium.io/const.go).
inline constexpr const char* kPodNamespaceLabel = "io.kubernetes.pod.namespace";
inline constexpr const char* kPodNamespaceMetaLabels = "io.cilium.k8s.namespace.labels";
inline constexpr const char* kPolicyLabelServiceAccount = "io.cilium.k8s.policy.serviceaccount";
inline constexpr const char* kPolicyLabelCluster = "io.cilium.k8s.policy.cluster";
// Pod labels with this prefix are owned by Cilium and dropped from the pod's
// own labels, so a pod cannot claim another namespace or service account.
inline constexpr const char* kCiliumOwnedPrefix = "io.cilium.k8s";

// Names of the reserved labels (key of "reserved:<name>").
inline constexpr const char* kIdHost = "host";
inline constexpr const char* kIdWorld = "world";
inline constexpr const char* kIdWorldIPv4 = "world-ipv4";
inline constexpr const char* kIdWorldIPv6 = "world-ipv6";
inline constexpr const char* kIdUnmanaged = "unmanaged";
inline constexpr const char* kIdHealth = "health";
inline constexpr const char* kIdInit = "init";
inline constexpr const char* kIdRemoteNode = "remote-node";
inline constexpr const char* kIdKubeAPIServer = "kube-apiserver";
inline constexpr const char* kIdIngress = "ingress";

// All reserved label names, in identity order.
const std::vector<std::string>& reserved_names();
bool is_reserved_name(std::string_view name);

struct Label {
  std::string source;
  std::string key;
  std::string value;

  // "k8s:app=web" → {k8s, app, web}; "app=web" → {unspec, app, web};
  // "reserved:host" → {reserved, host, ""}. Only the first ':' separates the
  // source and only the first '=' the value. Throws std::invalid_argument on
  // an empty key.
  static Label parse(std::string_view s);
  // As parse, but a label without a source gets `default_source`.
  static Label parse(std::string_view s, std::string_view default_source);

  std::string str() const;  // "k8s:app=web", "reserved:host"
  bool operator==(const Label&) const = default;
  auto operator<=>(const Label&) const = default;
};

// The label "cidr:<prefix>" for a prefix; IPv6 ':' become '-' (with a 0 added
// at either end when the address starts or ends with ':'), as upstream does so
// that the source separator stays unambiguous: 2001:db8::/32 → "2001-db8--0/32".
Label cidr_label(const IpPrefix& prefix);
// The inverse of cidr_label's key: "10.0.0.0/8" or "2001-db8--0/32" → prefix.
std::optional<IpPrefix> parse_cidr_label_key(std::string_view key);

class LabelSet {
 public:
  LabelSet() = default;
  LabelSet(std::initializer_list<Label> ls);
  explicit LabelSet(const std::vector<Label>& ls);

  // Each string is parsed with Label::parse ("app=web" gets source unspec).
  static LabelSet parse(const std::vector<std::string>& strs);
  // "k8s:a=b,k8s:c=d" or "k8s:a=b k8s:c=d" or "k8s:a=b;k8s:c=d;" (cilium-dbg style lists).
  static LabelSet parse_list(std::string_view s, std::string_view default_source = kSourceUnspec);
  // A key/value map with one source (e.g. Kubernetes labels with "k8s").
  static LabelSet from_map(const std::map<std::string, std::string>& m, std::string_view source);

  // Inserts or replaces the label with the same key.
  void add(Label l);
  void merge(const LabelSet& other);
  bool remove(std::string_view key);

  const Label* find(std::string_view key) const;
  // True when a label with this key exists and has this source ("any" matches every source).
  bool has(std::string_view source, std::string_view key) const;
  bool has_reserved(std::string_view name) const { return has(kSourceReserved, name); }

  const std::vector<Label>& labels() const { return labels_; }
  auto begin() const { return labels_.begin(); }
  auto end() const { return labels_.end(); }
  size_t size() const { return labels_.size(); }
  bool empty() const { return labels_.empty(); }

  // "k8s:a=b;k8s:c=d;" — upstream Labels.SortedList(), the identity key.
  std::string sorted_list() const;
  // ["k8s:a=b", "k8s:c=d"] in key order.
  std::vector<std::string> strings() const;
  // "k8s:a=b, k8s:c=d" for humans.
  std::string str() const;
  // Only the labels of one source.
  LabelSet with_source(std::string_view source) const;
  // source:key → value, as CiliumIdentity security-labels.
  std::map<std::string, std::string> to_map() const;
  size_t hash() const;

  nlohmann::json to_json() const;  // array of strings
  // Accepts an array of "source:key=value" strings; throws std::invalid_argument.
  static LabelSet from_json(const nlohmann::json& j);

  bool operator==(const LabelSet&) const = default;
  auto operator<=>(const LabelSet&) const = default;

 private:
  std::vector<Label> labels_;  // sorted by key, unique keys
};

struct LabelSetHash {
  size_t operator()(const LabelSet& s) const { return s.hash(); }
};

// Labels of a reserved identity by reserved name ("host" → {reserved:host}).
// kube-apiserver carries reserved:remote-node too (upstream: the apiserver
// runs on a node). Unknown names give an empty set.
LabelSet reserved_label_set(std::string_view name);

// The labels of a CIDR identity: cidr:<prefix> and cidr:<p> for every
// containing prefix down to /0, plus reserved:world (or world-ipv4/world-ipv6
// when the world identity is split by family), as upstream GetCIDRLabels.
LabelSet cidr_identity_labels(const IpPrefix& prefix, bool world_split = false);

// ---------------------------------------------------------------------------
// Deriving an endpoint's labels from its Pod and Namespace objects.

struct PodLabelOptions {
  std::string cluster_name = "default";  // cluster-name config key
};

// All labels Cilium derives for a pod (before the security filter):
//   k8s:<pod label>=<v>        for every pod label not under io.cilium.k8s
//   k8s:io.kubernetes.pod.namespace=<ns>
//   k8s:io.cilium.k8s.policy.serviceaccount=<sa>   (when the pod names one)
//   k8s:io.cilium.k8s.policy.cluster=<cluster>
//   k8s:io.cilium.k8s.namespace.labels.<k>=<v>     for every Namespace label
// `ns` may be null (namespace object not known yet: no namespace labels).
// Throws std::invalid_argument if the pod lacks metadata.name.
LabelSet pod_labels(const nlohmann::json& pod, const nlohmann::json* ns, const PodLabelOptions& opts = {});

// ---------------------------------------------------------------------------
// Security-relevant label filter (upstream pkg/labelsfilter, `labels` config key).
//
// Patterns are "[source:][!]regex"; the regex is matched against the label
// key, anchored at the key's start. A label is identity-relevant when no
// inclusive pattern is configured by the user and no exclusive pattern
// matches, or when the longest matching inclusive pattern match is longer
// than the shortest matching exclusive one.
class LabelFilter {
 public:
  struct Pattern {
    std::string source;  // "" or "any" = every source
    std::string regex;
    bool ignore = false;
  };

  // Upstream 1.15's default list: reserved:.*, io.kubernetes.pod.namespace,
  // io.cilium.k8s.namespace.labels, app.kubernetes.io,
  // io.cilium.k8s.policy.cluster are included; io.kubernetes, kubernetes.io,
  // statefulset.kubernetes.io/pod-name, apps.kubernetes.io/pod-index,
  // batch.kubernetes.io/job-completion-index, .*beta.kubernetes.io, k8s.io,
  // pod-template-generation, pod-template-hash, controller-revision-hash,
  // annotation.*, etcd_node are ignored.
  static const LabelFilter& default_filter();
  // Default list plus user patterns (the `labels` config key: space-separated).
  // Any user pattern without '!' turns the filter into an allow-list.
  // Throws std::invalid_argument on a bad regex or an empty pattern.
  static LabelFilter with_user_patterns(std::string_view space_separated);

  // (identity-relevant, informational)
  std::pair<LabelSet, LabelSet> split(const LabelSet& all) const;
  LabelSet filter(const LabelSet& all) const { return split(all).first; }
  bool relevant(const Label& l) const;

  const std::vector<Pattern>& patterns() const { return patterns_; }

 private:
  struct Compiled;
  void add(std::string_view pattern, bool user);
  std::vector<Pattern> patterns_;
  std::vector<std::shared_ptr<const Compiled>> compiled_;
  bool allow_list_ = false;
};

// pod_labels() then the filter: the labels an endpoint's identity is made of.
LabelSet pod_security_labels(const nlohmann::json& pod, const nlohmann::json* ns, const PodLabelOptions& opts = {},
                             const LabelFilter& filter = LabelFilter::default_filter());

}  // namespace cpp::labels
