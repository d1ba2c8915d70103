#pragma once
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "api/unix_http.h"

namespace cpp::cni {

// The plugin's view of the agent's local API; maps transport and HTTP
// failures to CniError with the agent's own message.
class AgentClient {
 public:
  explicit AgentClient(const std::string& socket_path) : http_(socket_path) {}
  nlohmann::json allocate_ips(const std::string& owner);
  void release_ips(const std::string& owner);
  nlohmann::json put_endpoint(const nlohmann::json& ep);
  std::optional<nlohmann::json> get_endpoint_by_container(const std::string& container_id);
  // false when the agent had no such endpoint.
  bool delete_endpoint_by_container(const std::string& container_id);
  nlohmann::json list_endpoints();
  bool healthy();

 private:
  nlohmann::json call(const std::string& method, const std::string& path, const std::string& body,
                      bool allow_404, bool* found = nullptr);
  api::UnixHttpClient http_;
};

}  // namespace cpp::cni
