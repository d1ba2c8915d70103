#pragma once
// Upstream's REST shapes for services (models.ServiceSpec): parsing a PUT
// body into an API-created service and rendering frontends for GET. Pure.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "service/model.h"

namespace cpp::agent {

// A service created through the API (cilium-dbg service update), without
// Kubernetes objects. Scope "external" (upstream's default) serves traffic
// from everywhere: its frontend gets an entry in both scopes where the type
// is reachable from outside (the external one carries `id`, the internal
// companion gets its own id); "internal" gets the internal entry only.
struct ApiService {
  uint16_t id = 0;
  service::L4Addr frontend;
  bool internal_only = false;  // frontend-address.scope "internal"
  service::FrontendType type = service::FrontendType::ClusterIP;
  std::vector<service::BackendSpec> backends;  // active first, then terminating
  service::TrafficPolicy ext_policy = service::TrafficPolicy::Cluster;
  service::TrafficPolicy int_policy = service::TrafficPolicy::Cluster;
  std::string name, ns;  // flags.name / flags.namespace, may be empty
  bool operator==(const ApiService&) const = default;

  // The key it has among services (Frontend::service): "api/<id>".
  std::string key() const;
};

// Parses a ServiceSpec body for PUT /v1/service/{path_id}. Throws
// std::invalid_argument naming the field ("backend-addresses[1].port: ...").
ApiService parse_service_spec(const nlohmann::json& body, uint16_t path_id);

// The frontends an API service programs: the external entry when its type
// (or a ClusterIP with bpf-lb-external-clusterip) is reachable from
// outside, and the internal one. The first one carries the service's id.
std::vector<service::Frontend> api_frontends(const ApiService& s, bool external_cluster_ip);

// One entry of GET /v1/service: {"spec": ServiceSpec, "status": {"realized": ServiceSpec}}.
// `name`/`ns` go to flags.name/flags.namespace.
nlohmann::json service_entry_json(uint16_t id, const service::Frontend& f, const std::string& ns,
                                  const std::string& name);
nlohmann::json api_service_json(const ApiService& s);  // for the state file
ApiService api_service_from_json(const nlohmann::json& j);

}  // namespace cpp::agent
