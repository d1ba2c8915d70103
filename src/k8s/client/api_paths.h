#pragma once
// REST paths of the Kubernetes API for the project's kinds
// (store::known_kinds()): /api/v1/... for the core group,
// /apis/<group>/<version>/... for the others, namespaced or not. Pure.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "store/resource.h"

namespace cpp::k8s {

struct ApiResource {
  std::string kind, group, version, plural;
  bool namespaced = true;
  std::string api_version() const { return group.empty() ? version : group + "/" + version; }
};

// The resource for kind at `version` (nullopt: the kind's first apiVersion).
// Throws std::invalid_argument for a kind the project does not know.
ApiResource resource_for(const std::string& kind, const std::optional<std::string>& version = std::nullopt);

// Which of the kind's accepted versions to talk to, given what the server
// serves for its group (discovery: the served versions and the preferred
// one). nullopt when the server serves none of them.
std::optional<std::string> pick_version(const store::KindInfo& kind, const std::vector<std::string>& served,
                                        const std::string& preferred);

// ns "" on a namespaced resource: across all namespaces.
std::string collection_path(const ApiResource& r, const std::string& ns);
std::string object_path(const ApiResource& r, const std::string& ns, const std::string& name);

// "?a=1&b=x" from the non-empty values, in key order, URL-encoded.
std::string query(const std::map<std::string, std::string>& params);
std::string url_encode(const std::string& s);

}  // namespace cpp::k8s
