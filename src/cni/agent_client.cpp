#include "cni/agent_client.h"

#include "cni/cni_error.h"

namespace cpp::cni {

nlohmann::json AgentClient::call(const std::string& method, const std::string& path, const std::string& body,
                                 bool allow_404, bool* found) {
  api::ClientResponse resp;
  try {
    resp = http_.request(method, path, body);
  } catch (const std::exception& e) {
    throw CniError(kTryAgainLater, "cilium-agent is not reachable", e.what());
  }
  if (found) *found = resp.status != 404;
  if (resp.status == 404 && allow_404) return nullptr;
  nlohmann::json j = nlohmann::json::parse(resp.body, nullptr, false);
  if (resp.status >= 300) {
    std::string msg = (!j.is_discarded() && j.contains("error")) ? j["error"].get<std::string>() : resp.body;
    throw CniError(resp.status == 503 ? kTryAgainLater : kAgentFailure,
                   method + " " + path + " failed (" + std::to_string(resp.status) + "): " + msg);
  }
  if (j.is_discarded()) throw CniError(kAgentFailure, "cilium-agent sent invalid JSON for " + method + " " + path);
  return j;
}

nlohmann::json AgentClient::allocate_ips(const std::string& owner) {
  return call("POST", "/v1/ipam", nlohmann::json{{"owner", owner}}.dump(), false);
}

void AgentClient::release_ips(const std::string& owner) { call("DELETE", "/v1/ipam/" + owner, "", true); }

nlohmann::json AgentClient::put_endpoint(const nlohmann::json& ep) { return call("PUT", "/v1/endpoint", ep.dump(), false); }

std::optional<nlohmann::json> AgentClient::get_endpoint_by_container(const std::string& container_id) {
  bool found = false;
  auto j = call("GET", "/v1/endpoint/container-id:" + container_id, "", true, &found);
  if (!found) return std::nullopt;
  return j;
}

bool AgentClient::delete_endpoint_by_container(const std::string& container_id) {
  bool found = false;
  call("DELETE", "/v1/endpoint/container-id:" + container_id, "", true, &found);
  return found;
}

nlohmann::json AgentClient::list_endpoints() { return call("GET", "/v1/endpoint", "", false); }

bool AgentClient::healthy() {
  try {
    return http_.request("GET", "/v1/healthz").status == 200;
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace cpp::cni
