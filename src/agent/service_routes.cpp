#include "agent/service_routes.h"

#include <charconv>

#include "agent/json_response.h"

namespace cpp::agent {

std::optional<api::HttpResponse> handle_service_routes(ServiceSubsystem* services, const api::HttpRequest& req) {
  static const std::string kBase = "/v1/service";
  const auto& p = req.path;
  if (p != kBase && p.rfind(kBase + "/", 0) != 0) return std::nullopt;
  if (!services) return error(501, "services are disabled on this node (kube-proxy-replacement is false)");
  if (p == kBase) {
    if (req.method == "GET") return ok(services->list());
    return error(405, "unsupported method " + req.method + " for " + p);
  }
  std::string ref = p.substr(kBase.size() + 1);
  unsigned id = 0;
  auto [end, ec] = std::from_chars(ref.data(), ref.data() + ref.size(), id);
  if (ec != std::errc() || end != ref.data() + ref.size() || id == 0 || id > 65535)
    return error(400, "id: \"" + ref + "\" is not a service id (1..65535)");
  auto sid = static_cast<uint16_t>(id);
  if (req.method == "GET") {
    auto e = services->get(sid);
    if (!e) return error(404, "service " + ref + " not found");
    return ok(*e);
  }
  if (req.method == "PUT") {
    auto body = nlohmann::json::parse(req.body, nullptr, false);
    if (body.is_discarded()) return error(400, "request body is not valid JSON");
    try {
      bool created = services->put(body, sid);
      auto e = services->get(sid);
      return ok(e ? *e : nlohmann::json::object(), created ? 201 : 200);
    } catch (const std::invalid_argument& e) {
      return error(400, e.what());
    } catch (const std::exception& e) {
      return error(500, std::string("service update failed: ") + e.what());
    }
  }
  if (req.method == "DELETE") {
    try {
      if (!services->remove(sid)) return error(404, "service " + ref + " not found");
    } catch (const std::invalid_argument& e) {
      return error(400, e.what());
    }
    return ok({{"deleted", sid}});
  }
  return error(405, "unsupported method " + req.method + " for " + p);
}

}  // namespace cpp::agent
