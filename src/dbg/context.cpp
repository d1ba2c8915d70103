#include "dbg/context.h"

#include <stdexcept>

namespace cpp::dbg {

nlohmann::json Context::call(const std::string& method, const std::string& path, const std::string& body) const {
  std::string socket = host;
  const std::string scheme = "unix://";
  if (socket.rfind(scheme, 0) == 0) socket = socket.substr(scheme.size());
  auto r = api::UnixHttpClient(socket).request(method, path, body);
  auto j = nlohmann::json::parse(r.body, nullptr, false);
  if (r.status >= 300) {
    std::string msg = (!j.is_discarded() && j.contains("error")) ? j["error"].get<std::string>() : r.body;
    throw std::runtime_error(msg);
  }
  if (j.is_discarded()) throw std::runtime_error("agent sent invalid JSON for " + path);
  return j;
}

}  // namespace cpp::dbg
