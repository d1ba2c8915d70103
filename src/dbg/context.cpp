#include "dbg/context.h"

namespace cpp::dbg {

nlohmann::json Context::call(const std::string& method, const std::string& path, const std::string& body) const {
  return api::call_agent(host, method, path, body);
}

}  // namespace cpp::dbg
