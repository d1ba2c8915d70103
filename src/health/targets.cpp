#include "health/targets.h"

#include <algorithm>
#include <stdexcept>

namespace cpp::health {
namespace {

using nlohmann::json;

std::string object_name(const json& obj) {
  if (obj.contains("metadata") && obj["metadata"].is_object() && obj["metadata"].contains("name") &&
      obj["metadata"]["name"].is_string())
    return obj["metadata"]["name"].get<std::string>();
  return "";
}

IpAddr parse_ip(const json& v, const std::string& where) {
  if (!v.is_string()) throw std::invalid_argument(where + " must be a string");
  auto a = IpAddr::parse(v.get<std::string>());
  if (!a) throw std::invalid_argument(where + ": invalid address " + v.dump());
  return *a;
}

}  // namespace

std::vector<IpAddr> primary_first(const std::vector<IpAddr>& addrs) {
  std::vector<IpAddr> out;
  for (bool v6 : {false, true})
    for (const auto& a : addrs)
      if (a.v6 == v6 && std::find(out.begin(), out.end(), a) == out.end()) out.push_back(a);
  return out;
}

NodeTarget target_from_cilium_node(const json& obj) {
  NodeTarget t;
  t.name = object_name(obj);
  if (t.name.empty()) throw std::invalid_argument("CiliumNode without metadata.name");
  std::string where = "CiliumNode " + t.name + ": ";
  const json spec = obj.contains("spec") ? obj["spec"] : json::object();
  if (!spec.is_object()) throw std::invalid_argument(where + "spec must be an object");
  std::vector<IpAddr> host, endpoint;
  if (spec.contains("addresses")) {
    const auto& addrs = spec["addresses"];
    if (!addrs.is_array()) throw std::invalid_argument(where + "spec.addresses must be an array");
    for (size_t i = 0; i < addrs.size(); ++i) {
      std::string at = where + "spec.addresses[" + std::to_string(i) + "]";
      if (!addrs[i].is_object()) throw std::invalid_argument(at + " must be an object");
      if (addrs[i].value("type", "") != "InternalIP") continue;
      if (!addrs[i].contains("ip")) throw std::invalid_argument(at + ".ip is missing");
      host.push_back(parse_ip(addrs[i]["ip"], at + ".ip"));
    }
  }
  if (spec.contains("health")) {
    const auto& h = spec["health"];
    if (!h.is_object()) throw std::invalid_argument(where + "spec.health must be an object");
    for (const char* fam : {"ipv4", "ipv6"}) {
      if (!h.contains(fam) || (h[fam].is_string() && h[fam].get<std::string>().empty())) continue;
      auto a = parse_ip(h[fam], where + "spec.health." + fam);
      if (a.v6 != (std::string(fam) == "ipv6"))
        throw std::invalid_argument(where + "spec.health." + fam + ": " + a.str() + " is of the wrong family");
      endpoint.push_back(a);
    }
  }
  t.host = primary_first(host);
  t.endpoint = primary_first(endpoint);
  return t;
}

std::vector<NodeTarget> cluster_targets(const NodeTarget& local, const std::vector<json>& cilium_nodes,
                                        std::vector<std::string>* warnings) {
  std::vector<NodeTarget> others;
  for (const auto& obj : cilium_nodes) {
    try {
      auto t = target_from_cilium_node(obj);
      if (t.name == local.name) continue;
      others.push_back(std::move(t));
    } catch (const std::exception& e) {
      if (warnings) warnings->push_back(e.what());
    }
  }
  std::sort(others.begin(), others.end(), [](const NodeTarget& a, const NodeTarget& b) { return a.name < b.name; });
  std::vector<NodeTarget> out{local};
  out.back().local = true;
  for (auto& t : others) out.push_back(std::move(t));
  return out;
}

}  // namespace cpp::health
