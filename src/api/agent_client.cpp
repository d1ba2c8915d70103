#include "api/agent_client.h"

#include "api/unix_http.h"

namespace cpp::api {

nlohmann::json call_agent(const std::string& socket, const std::string& method, const std::string& path,
                          const std::string& body, int timeout_ms) {
  const std::string scheme = "unix://";
  const std::string file = socket.rfind(scheme, 0) == 0 ? socket.substr(scheme.size()) : socket;
  auto r = UnixHttpClient(file, timeout_ms).request(method, path, body);
  auto j = nlohmann::json::parse(r.body, nullptr, false);
  if (r.status >= 300)
    throw AgentError((!j.is_discarded() && j.is_object() && j.contains("error")) ? j["error"].get<std::string>()
                                                                                 : r.body);
  if (j.is_discarded()) throw std::runtime_error("agent sent invalid JSON for " + path);
  return j;
}

}  // namespace cpp::api
