#pragma once
// The resource model: Kubernetes-shaped objects (apiVersion/kind/metadata/
// spec/status) held as nlohmann::json, and the closed set of kinds ciliumpp
// understands (brief §1, "API objects").
#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cpp::store {

using json = nlohmann::json;

struct KindInfo {
  std::string kind;                       // "CiliumNetworkPolicy"
  std::vector<std::string> api_versions;  // accepted apiVersions, preferred first
  bool namespaced = true;
  std::string plural;  // lower-case plural, as kubectl prints it ("ciliumnetworkpolicies")
  std::string group() const;  // "cilium.io", "" for the core group
};

// All kinds the project knows, in a stable order.
const std::vector<KindInfo>& known_kinds();
// nullptr when the kind is unknown. Matching is exact (Kubernetes kinds are case-sensitive).
const KindInfo* find_kind(std::string_view kind);

// The namespace used for namespaced objects without metadata.namespace.
inline constexpr const char* kDefaultNamespace = "default";

// Checks the shape every stored object must have:
//   apiVersion, kind, metadata.name are required; kind is known and served at
//   that apiVersion; names are DNS subdomains, namespaces DNS labels; labels
//   and annotations are string → string maps; spec/status are objects when
//   present (CiliumNetworkPolicy/CiliumClusterwideNetworkPolicy need spec or specs).
// Throws std::invalid_argument("document N: <field path>: <reason>") when
// doc_index (1-based) is given, "<field path>: <reason>" otherwise.
void validate_resource(const json& obj, std::optional<size_t> doc_index = std::nullopt);

// validate_resource, then defaults: namespaced kinds without a namespace get
// "default"; cluster-scoped kinds lose any metadata.namespace (as the
// Kubernetes API server ignores it).
json normalize_resource(json obj, std::optional<size_t> doc_index = std::nullopt);

// Identity of an object: kind, namespace ("" for cluster-scoped), name.
struct ResourceKey {
  std::string kind;
  std::string ns;
  std::string name;
  bool operator==(const ResourceKey&) const = default;
  auto operator<=>(const ResourceKey&) const = default;
  // "CiliumNetworkPolicy default/allow" or "Node node1".
  std::string str() const;
};
// Key of a normalized object.
ResourceKey key_of(const json& obj);

// kubectl-style reference: "ciliumnetworkpolicy.cilium.io/allow", "pod/client".
std::string display_name(const json& obj);

}  // namespace cpp::store
