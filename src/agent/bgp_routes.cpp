#include "agent/bgp_routes.h"

#include "agent/json_response.h"

namespace cpp::agent {

std::optional<api::HttpResponse> handle_bgp_routes(const BgpSubsystem* bgp, const api::HttpRequest& req) {
  static const std::string kBase = "/v1/bgp/";
  const auto& p = req.path;
  if (p.rfind(kBase, 0) != 0) return std::nullopt;
  if (!bgp) return error(501, "the BGP control plane is disabled on this node (enable-bgp-control-plane is false)");
  if (req.method != "GET") return error(405, "unsupported method " + req.method + " for " + p);
  if (p == "/v1/bgp/peers") return ok(bgp->peers_json());
  if (p == "/v1/bgp/policies") return ok(bgp->policies_json());
  if (p == "/v1/bgp/routes") {
    if (req.query.empty() || req.query == "table=available") return ok(bgp->routes_json(false));
    if (req.query == "table=advertised") return ok(bgp->routes_json(true));
    return error(400, "query \"" + req.query + "\": expected table=available or table=advertised");
  }
  return error(404, "no such API path " + p);
}

}  // namespace cpp::agent
