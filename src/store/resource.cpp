#include "store/resource.h"

#include <algorithm>
#include <stdexcept>

namespace cpp::store {

std::string KindInfo::group() const {
  const std::string& v = api_versions.front();
  auto slash = v.find('/');
  return slash == std::string::npos ? std::string() : v.substr(0, slash);
}

const std::vector<KindInfo>& known_kinds() {
  // Upstream 1.15 serves several of these at v2alpha1 only; later releases
  // promoted them to v2. Both spellings are accepted so that YAML written for
  // either release means the same here.
  static const std::vector<KindInfo> kinds = {
      {"CiliumNetworkPolicy", {"cilium.io/v2"}, true, "ciliumnetworkpolicies"},
      {"CiliumClusterwideNetworkPolicy", {"cilium.io/v2"}, false, "ciliumclusterwidenetworkpolicies"},
      {"CiliumEndpoint", {"cilium.io/v2"}, true, "ciliumendpoints"},
      {"CiliumIdentity", {"cilium.io/v2"}, false, "ciliumidentities"},
      {"CiliumNode", {"cilium.io/v2"}, false, "ciliumnodes"},
      {"CiliumLoadBalancerIPPool", {"cilium.io/v2", "cilium.io/v2alpha1"}, false, "ciliumloadbalancerippools"},
      {"CiliumL2AnnouncementPolicy", {"cilium.io/v2", "cilium.io/v2alpha1"}, false, "ciliuml2announcementpolicies"},
      {"CiliumPodIPPool", {"cilium.io/v2", "cilium.io/v2alpha1"}, false, "ciliumpodippools"},
      {"CiliumNodeConfig", {"cilium.io/v2", "cilium.io/v2alpha1"}, true, "ciliumnodeconfigs"},
      {"CiliumExternalWorkload", {"cilium.io/v2"}, false, "ciliumexternalworkloads"},
      {"CiliumBGPPeeringPolicy", {"cilium.io/v2alpha1"}, false, "ciliumbgppeeringpolicies"},
      {"CiliumCIDRGroup", {"cilium.io/v2alpha1", "cilium.io/v2"}, false, "ciliumcidrgroups"},
      {"NetworkPolicy", {"networking.k8s.io/v1"}, true, "networkpolicies"},
      {"Service", {"v1"}, true, "services"},
      {"Pod", {"v1"}, true, "pods"},
      {"Namespace", {"v1"}, false, "namespaces"},
      {"Node", {"v1"}, false, "nodes"},
      {"EndpointSlice", {"discovery.k8s.io/v1"}, true, "endpointslices"},
      {"Secret", {"v1"}, true, "secrets"},
      {"Lease", {"coordination.k8s.io/v1"}, true, "leases"},  // operator leader election
  };
  return kinds;
}

const KindInfo* find_kind(std::string_view kind) {
  for (const auto& k : known_kinds())
    if (k.kind == kind) return &k;
  return nullptr;
}

namespace {

[[noreturn]] void fail(std::optional<size_t> doc, const std::string& path, const std::string& why) {
  std::string msg;
  if (doc) msg = "document " + std::to_string(*doc) + ": ";
  msg += path + ": " + why;
  throw std::invalid_argument(msg);
}

bool is_alnum_lower(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// RFC 1123 subdomain, as Kubernetes requires for most object names.
std::optional<std::string> check_dns_subdomain(const std::string& s) {
  if (s.empty()) return "must not be empty";
  if (s.size() > 253) return "must be no more than 253 characters";
  for (char c : s)
    if (!is_alnum_lower(c) && c != '-' && c != '.')
      return "\"" + s + "\" is not a valid name: lower-case letters, digits, '-' and '.' only";
  if (!is_alnum_lower(s.front()) || !is_alnum_lower(s.back()))
    return "\"" + s + "\" is not a valid name: must start and end with a letter or digit";
  return std::nullopt;
}

// RFC 1123 label, as Kubernetes requires for namespace names.
std::optional<std::string> check_dns_label(const std::string& s) {
  if (s.empty()) return "must not be empty";
  if (s.size() > 63) return "must be no more than 63 characters";
  for (char c : s)
    if (!is_alnum_lower(c) && c != '-')
      return "\"" + s + "\" is not a valid namespace: lower-case letters, digits and '-' only";
  if (!is_alnum_lower(s.front()) || !is_alnum_lower(s.back()))
    return "\"" + s + "\" is not a valid namespace: must start and end with a letter or digit";
  return std::nullopt;
}

void check_string_map(const json& obj, const char* field, std::optional<size_t> doc) {
  auto it = obj.find(field);
  if (it == obj.end() || it->is_null()) return;
  std::string path = std::string("metadata.") + field;
  if (!it->is_object()) fail(doc, path, "must be a map of strings");
  for (const auto& [k, v] : it->items()) {
    if (k.empty()) fail(doc, path, "keys must not be empty");
    if (!v.is_string())
      fail(doc, path + "." + k,
           "must be a string (got " + std::string(v.type_name()) + "; quote it in YAML)");
  }
}

}  // namespace

void validate_resource(const json& obj, std::optional<size_t> doc) {
  if (!obj.is_object()) fail(doc, "(root)", "must be a mapping, got " + std::string(obj.type_name()));

  auto av = obj.find("apiVersion");
  if (av == obj.end() || av->is_null()) fail(doc, "apiVersion", "required");
  if (!av->is_string() || av->get<std::string>().empty()) fail(doc, "apiVersion", "must be a non-empty string");

  auto kd = obj.find("kind");
  if (kd == obj.end() || kd->is_null()) fail(doc, "kind", "required");
  if (!kd->is_string() || kd->get<std::string>().empty()) fail(doc, "kind", "must be a non-empty string");
  const std::string kind = kd->get<std::string>();
  const KindInfo* info = find_kind(kind);
  if (!info) fail(doc, "kind", "unknown kind \"" + kind + "\"");
  const std::string api_version = av->get<std::string>();
  if (std::find(info->api_versions.begin(), info->api_versions.end(), api_version) == info->api_versions.end()) {
    std::string expected;
    for (const auto& v : info->api_versions) expected += (expected.empty() ? "" : " or ") + v;
    fail(doc, "apiVersion", "\"" + api_version + "\" does not serve kind " + kind + " (expected " + expected + ")");
  }

  auto md = obj.find("metadata");
  if (md == obj.end() || md->is_null()) fail(doc, "metadata", "required");
  if (!md->is_object()) fail(doc, "metadata", "must be a mapping");
  auto nm = md->find("name");
  if (nm == md->end() || nm->is_null()) fail(doc, "metadata.name", "required");
  if (!nm->is_string()) fail(doc, "metadata.name", "must be a string");
  if (auto why = check_dns_subdomain(nm->get<std::string>())) fail(doc, "metadata.name", *why);
  auto ns = md->find("namespace");
  if (ns != md->end() && !ns->is_null()) {
    if (!ns->is_string()) fail(doc, "metadata.namespace", "must be a string");
    if (info->namespaced)
      if (auto why = check_dns_label(ns->get<std::string>())) fail(doc, "metadata.namespace", *why);
  }
  check_string_map(*md, "labels", doc);
  check_string_map(*md, "annotations", doc);

  for (const char* f : {"spec", "status"}) {
    auto it = obj.find(f);
    if (it != obj.end() && !it->is_null() && !it->is_object()) fail(doc, f, "must be a mapping");
  }
  if (kind == "CiliumNetworkPolicy" || kind == "CiliumClusterwideNetworkPolicy") {
    auto spec = obj.find("spec");
    auto specs = obj.find("specs");
    bool has_spec = spec != obj.end() && !spec->is_null();
    bool has_specs = specs != obj.end() && !specs->is_null();
    if (!has_spec && !has_specs) fail(doc, "spec", "required (or specs)");
    if (has_specs) {
      if (!specs->is_array()) fail(doc, "specs", "must be a list");
      for (size_t i = 0; i < specs->size(); ++i)
        if (!(*specs)[i].is_object()) fail(doc, "specs[" + std::to_string(i) + "]", "must be a mapping");
    }
  }
}

json normalize_resource(json obj, std::optional<size_t> doc) {
  validate_resource(obj, doc);
  const KindInfo* info = find_kind(obj["kind"].get<std::string>());
  auto& md = obj["metadata"];
  if (info->namespaced) {
    if (!md.contains("namespace") || md["namespace"].is_null()) md["namespace"] = kDefaultNamespace;
  } else {
    md.erase("namespace");
  }
  return obj;
}

std::string ResourceKey::str() const { return ns.empty() ? kind + " " + name : kind + " " + ns + "/" + name; }

ResourceKey key_of(const json& obj) {
  ResourceKey k;
  k.kind = obj.at("kind").get<std::string>();
  const auto& md = obj.at("metadata");
  k.name = md.at("name").get<std::string>();
  const KindInfo* info = find_kind(k.kind);
  if (info && info->namespaced) k.ns = md.value("namespace", std::string(kDefaultNamespace));
  return k;
}

std::string display_name(const json& obj) {
  std::string kind = obj.value("kind", std::string("object"));
  std::string lower;
  for (char c : kind) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const KindInfo* info = find_kind(kind);
  std::string group = info ? info->group() : std::string();
  std::string name;
  if (obj.contains("metadata") && obj["metadata"].is_object()) name = obj["metadata"].value("name", std::string());
  return lower + (group.empty() ? "" : "." + group) + "/" + name;
}

}  // namespace cpp::store
