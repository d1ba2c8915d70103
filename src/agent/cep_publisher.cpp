#include "agent/cep_publisher.h"

#include "common/log.h"
#include "identity/identity.h"

namespace cpp::agent {
namespace {

// Upstream's text when per-endpoint policy status is not computed (the seed's value).
constexpr const char* kStatusDisabled = "<status disabled>";

}  // namespace

CepPublisher::CepPublisher(store::ResourceStore& store, std::string node_ip, bool k8s_mode)
    : store_(store), node_ip_(std::move(node_ip)), k8s_mode_(k8s_mode) {}

void CepPublisher::endpoint_changed(const endpoint::Endpoint& ep, bool deleted) {
  if (ep.identity == identity::kHealth) return;
  std::lock_guard l(mu_);
  if (!deleted) {
    endpoints_[ep.id] = ep;
    publish_locked(ep);
    return;
  }
  endpoints_.erase(ep.id);
  enforcement_.erase(ep.id);
  try {
    auto obj = ep.to_cilium_endpoint(node_ip_);
    store_.remove("CiliumEndpoint", obj["metadata"]["namespace"], obj["metadata"]["name"]);
  } catch (const std::exception& e) {
    spdlog::warn("CiliumEndpoint for endpoint {}: {}", ep.id, e.what());
  }
}

void CepPublisher::enforcement_changed(uint16_t ep_id, bool ingress, bool egress) {
  std::lock_guard l(mu_);
  auto& slot = enforcement_[ep_id];
  if (slot == std::pair(ingress, egress) && endpoints_.count(ep_id)) return;
  slot = {ingress, egress};
  if (auto it = endpoints_.find(ep_id); it != endpoints_.end()) publish_locked(it->second);
}

void CepPublisher::publish_locked(const endpoint::Endpoint& ep) {
  try {
    auto obj = ep.to_cilium_endpoint(node_ip_);
    auto [ingress, egress] = enforcement_.count(ep.id) ? enforcement_[ep.id] : std::pair(false, false);
    obj["status"]["policy"] = {{"ingress", {{"enforcing", ingress}, {"state", kStatusDisabled}}},
                               {"egress", {{"enforcing", egress}, {"state", kStatusDisabled}}}};
    obj["status"]["visibility-policy-status"] = kStatusDisabled;
    if (k8s_mode_) {
      // As upstream: the Pod owns its CiliumEndpoint (the API's garbage
      // collector deletes it with the Pod), its named ports are listed, and
      // encryption is reported.
      obj["status"]["encryption"] = nlohmann::json::object();
      const auto& md = obj["metadata"];
      if (auto pod = store_.get("Pod", md["namespace"], md["name"]); pod && (*pod)["metadata"].contains("uid")) {
        obj["metadata"]["ownerReferences"] = {{{"apiVersion", "v1"},
                                               {"kind", "Pod"},
                                               {"name", md["name"]},
                                               {"uid", (*pod)["metadata"]["uid"]}}};
        if (auto ports = endpoint::named_ports_of_pod(*pod); !ports.empty()) obj["status"]["named-ports"] = ports;
      }
    }
    store_.put(obj);
  } catch (const std::exception& e) {
    spdlog::warn("CiliumEndpoint for endpoint {}: {}", ep.id, e.what());
  }
}

}  // namespace cpp::agent
