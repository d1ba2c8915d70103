#include "agent/policy_routes.h"

#include <charconv>
#include <map>

#include "agent/json_response.h"

namespace cpp::agent {
namespace {

using api::HttpRequest;
using api::HttpResponse;
using nlohmann::json;

std::map<std::string, std::string> parse_query(const std::string& q) {
  std::map<std::string, std::string> out;
  size_t start = 0;
  while (start < q.size()) {
    size_t end = q.find('&', start);
    if (end == std::string::npos) end = q.size();
    auto kv = q.substr(start, end - start);
    auto eq = kv.find('=');
    if (eq != std::string::npos) out[kv.substr(0, eq)] = kv.substr(eq + 1);
    start = end + 1;
  }
  return out;
}

// {"labels": ["k8s:app=a", ...]} or {"pod": "ns/name"}
labels::LabelSet resolve_peer(const PolicySubsystem& policy, const json& j, const char* which) {
  if (!j.is_object()) throw std::invalid_argument(std::string(which) + " must be an object");
  if (j.contains("pod")) {
    auto ref = j["pod"].get<std::string>();
    auto slash = ref.find('/');
    std::string ns = slash == std::string::npos ? "default" : ref.substr(0, slash);
    std::string name = slash == std::string::npos ? ref : ref.substr(slash + 1);
    auto ls = policy.labels_of_pod(ns, name);
    if (!ls) throw std::invalid_argument(std::string(which) + ": pod " + ns + "/" + name + " not found");
    return *ls;
  }
  if (j.contains("labels")) return labels::LabelSet::from_json(j["labels"]);
  throw std::invalid_argument(std::string(which) + " needs 'pod' or 'labels'");
}

uint8_t parse_proto(const std::string& p) {
  static const std::map<std::string, uint8_t> names{{"TCP", 6}, {"UDP", 17}, {"SCTP", 132}, {"ICMP", 1},
                                                    {"ICMPV6", 58}, {"ANY", 0}};
  std::string up;
  for (char c : p) up += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  auto it = names.find(up);
  if (it == names.end()) throw std::invalid_argument("unknown protocol " + p);
  return it->second;
}

HttpResponse trace(const PolicySubsystem& policy, const HttpRequest& req) {
  json body = json::parse(req.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) return error(400, "request body is not a JSON object");
  try {
    auto src = resolve_peer(policy, body.value("src", json()), "src");
    auto dst = resolve_peer(policy, body.value("dst", json()), "dst");
    uint8_t proto = parse_proto(body.value("protocol", "TCP"));
    int dport = body.value("dport", 0);
    if (dport < 0 || dport > 65535) return error(400, "dport must be 0..65535");
    auto t = policy.trace(src, dst, proto, static_cast<uint16_t>(dport));
    return ok({{"verdict", t.verdict()}, {"allowed", t.allowed}, {"text", t.text}});
  } catch (const std::exception& e) {
    return error(400, e.what());
  }
}

}  // namespace

std::optional<HttpResponse> handle_policy_routes(PolicySubsystem& policy, const HttpRequest& req) {
  const auto& p = req.path;
  if (p == "/v1/policy/trace" && req.method == "POST") return trace(policy, req);
  if (p == "/v1/policy") {
    if (req.method == "GET") return ok(policy.policies_json());
    if (req.method == "PUT") {
      json body = json::parse(req.body, nullptr, false);
      if (body.is_discarded()) return error(400, "request body is not valid JSON");
      std::vector<json> docs;
      if (body.is_array())
        docs.assign(body.begin(), body.end());
      else
        docs.push_back(body);
      try {
        return ok({{"revision", policy.import(docs)}});
      } catch (const std::exception& e) {
        return error(400, e.what());
      }
    }
    if (req.method == "DELETE") {
      auto q = parse_query(req.query);
      if (!q.count("name")) return error(400, "query parameter 'name' is required");
      std::string kind = q.count("kind") ? q["kind"] : "CiliumNetworkPolicy";
      std::string ns = q.count("namespace") ? q["namespace"] : (kind == "CiliumClusterwideNetworkPolicy" ? "" : "default");
      try {
        if (!policy.remove(kind, ns, q["name"])) return error(404, kind + " " + ns + "/" + q["name"] + " not found");
      } catch (const std::exception& e) {
        return error(400, e.what());
      }
      return ok(policy.policies_json());
    }
    return error(405, "unsupported method " + req.method + " for /v1/policy");
  }
  if (p == "/v1/identity" && req.method == "GET") return ok(policy.identities_json());
  if (p.rfind("/v1/identity/", 0) == 0 && req.method == "GET") {
    auto ref = p.substr(13);
    uint32_t id = 0;
    auto [end, ec] = std::from_chars(ref.data(), ref.data() + ref.size(), id);
    if (ec != std::errc() || end != ref.data() + ref.size()) return error(400, "identity must be a number: " + ref);
    auto j = policy.identity_json(id);
    if (!j) return error(404, "identity " + ref + " not found");
    return ok(*j);
  }
  return std::nullopt;
}

}  // namespace cpp::agent
