#include "agent/api_routes.h"

#include <charconv>

#include "agent/policy_routes.h"
#include "agent/bgp_routes.h"
#include "agent/service_routes.h"
#include "agent/json_response.h"
#include "common/log.h"

namespace cpp::agent {
namespace {

using api::HttpRequest;
using api::HttpResponse;
using nlohmann::json;

bool starts_with(const std::string& s, const std::string& p) { return s.rfind(p, 0) == 0; }

// "/v1/endpoint/<id>" or "/v1/endpoint/container-id:<cid>"
std::optional<endpoint::Endpoint> find_endpoint(const ApiContext& ctx, const std::string& ref) {
  static const std::string kCid = "container-id:";
  if (starts_with(ref, kCid)) return ctx.endpoints.get_by_container(ref.substr(kCid.size()));
  unsigned id = 0;
  auto [p, ec] = std::from_chars(ref.data(), ref.data() + ref.size(), id);
  if (ec != std::errc() || p != ref.data() + ref.size() || id > 65535) return std::nullopt;
  return ctx.endpoints.get(static_cast<uint16_t>(id));
}

json allocation_json(const ApiContext& ctx, const ipam::Allocation& a) {
  json j{{"mtu", ctx.mtu}};
  if (a.ipv4)
    j["ipv4"] = {{"ip", a.ipv4->str()}, {"gateway", ctx.ipam.router_ipv4()->str()}, {"cidr", ctx.ipam.cidr_ipv4()->str()}};
  if (a.ipv6)
    j["ipv6"] = {{"ip", a.ipv6->str()}, {"gateway", ctx.ipam.router_ipv6()->str()}, {"cidr", ctx.ipam.cidr_ipv6()->str()}};
  return j;
}

HttpResponse handle_ipam(const ApiContext& ctx, const HttpRequest& req) {
  if (req.method == "POST" && req.path == "/v1/ipam") {
    json body = json::parse(req.body, nullptr, false);
    if (body.is_discarded() || !body.is_object()) return error(400, "request body is not a JSON object");
    if (!body.contains("owner") || !body["owner"].is_string() || body["owner"].get<std::string>().empty())
      return error(400, "field 'owner' (string) is required");
    try {
      return ok(allocation_json(ctx, ctx.ipam.allocate(body["owner"].get<std::string>())), 201);
    } catch (const std::exception& e) {
      return error(503, e.what());
    }
  }
  if (req.method == "DELETE" && starts_with(req.path, "/v1/ipam/")) {
    bool released = ctx.ipam.release(req.path.substr(9));
    return ok({{"released", released}});
  }
  return error(405, "unsupported method " + req.method + " for " + req.path);
}

HttpResponse handle_endpoint(const ApiContext& ctx, const HttpRequest& req) {
  if (req.path == "/v1/endpoint") {
    if (req.method == "GET") {
      json list = json::array();
      for (const auto& ep : ctx.endpoints.list()) list.push_back(ep.to_json());
      return ok(list);
    }
    if (req.method == "PUT") {
      json body = json::parse(req.body, nullptr, false);
      if (body.is_discarded()) return error(400, "request body is not valid JSON");
      endpoint::Endpoint ep;
      try {
        ep = endpoint::Endpoint::from_json(body);
      } catch (const std::exception& e) {
        return error(400, e.what());
      }
      if (ep.ipv4 && !ctx.ipam.cidr_ipv4()->contains(*ep.ipv4))
        return error(400, "addressing.ipv4 " + ep.ipv4->str() + " is outside this node's PodCIDR");
      if (ep.ipv6 && !ctx.ipam.cidr_ipv6()->contains(*ep.ipv6))
        return error(400, "addressing.ipv6 " + ep.ipv6->str() + " is outside this node's PodCIDR");
      if (ctx.enrich_endpoint) ctx.enrich_endpoint(ep);
      try {
        return ok(ctx.endpoints.upsert(ep).to_json(), 201);
      } catch (const std::exception& e) {
        return error(500, std::string("endpoint create failed: ") + e.what());
      }
    }
    return error(405, "unsupported method " + req.method + " for /v1/endpoint");
  }
  std::string ref = req.path.substr(std::string("/v1/endpoint/").size());
  auto ep = find_endpoint(ctx, ref);
  if (!ep) return error(404, "endpoint " + ref + " not found");
  if (req.method == "GET") return ok(ep->to_json());
  if (req.method == "DELETE") {
    ctx.endpoints.remove(ep->id);
    return ok(ep->to_json());
  }
  return error(405, "unsupported method " + req.method + " for " + req.path);
}

}  // namespace

api::UnixHttpServer::Handler make_api_handler(ApiContext ctx) {
  return [ctx](const HttpRequest& req) -> HttpResponse {
    const auto& p = req.path;
    if (p == "/v1/healthz") {
      if (!ctx.ready()) return error(503, "datapath not ready");
      return ok({{"status", "ok"}});
    }
    if (p == "/v1/status" && req.method == "GET") return ok(ctx.status());
    if (p == "/v1/config" && req.method == "GET") return ok(ctx.config());
    if (p == "/v1/ipam" || starts_with(p, "/v1/ipam/")) return handle_ipam(ctx, req);
    if (p == "/v1/endpoint" || starts_with(p, "/v1/endpoint/")) return handle_endpoint(ctx, req);
    if (ctx.policy)
      if (auto r = handle_policy_routes(*ctx.policy, req)) return *r;
    if (auto r = handle_service_routes(ctx.services, req)) return *r;
    if (auto r = handle_bgp_routes(ctx.bgp, req)) return *r;
    if (p == "/v1/map" && req.method == "GET") return ok(ctx.list_maps());
    if (starts_with(p, "/v1/map/") && req.method == "GET") {
      auto name = p.substr(8);
      auto m = ctx.dump_map(name);
      if (!m) return error(404, "map " + name + " not found");
      return ok(*m);
    }
    return error(404, "no such API path " + p);
  };
}

}  // namespace cpp::agent
