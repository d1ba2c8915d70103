#include "ipam/cilium_node.h"

namespace cpp::ipam {

using json = nlohmann::json;

namespace {

// Server-owned metadata differs between reads; equality is about content.
json content(const json& obj) {
  json c = obj;
  if (c.contains("metadata") && c["metadata"].is_object())
    for (const char* k : {"resourceVersion", "generation", "uid", "creationTimestamp"}) c["metadata"].erase(k);
  return c;
}

json& object_at(json& parent, const char* key) {
  if (!parent.contains(key) || !parent[key].is_object()) parent[key] = json::object();
  return parent[key];
}

}  // namespace

json new_cilium_node(const std::string& name) {
  json empty = json::object();
  return {{"apiVersion", "cilium.io/v2"},
          {"kind", "CiliumNode"},
          {"metadata", {{"name", name}}},
          {"spec",
           {{"addresses", json::array()},
            {"alibaba-cloud", empty},
            {"azure", empty},
            {"encryption", empty},
            {"eni", empty},
            {"health", empty},
            {"ingress", empty},
            {"ipam", {{"pools", empty}}}}},
          {"status", {{"alibaba-cloud", empty}, {"azure", empty}, {"eni", empty}, {"ipam", {{"operator-status", empty}}}}}};
}

std::optional<json> merge_agent_fields(const json* existing, const AgentNodeFields& f) {
  json obj = existing ? *existing : new_cilium_node(f.name);
  json& spec = object_at(obj, "spec");
  json addrs = json::array();
  auto add = [&](const char* type, const std::optional<IpAddr>& a) {
    if (a) addrs.push_back({{"ip", a->str()}, {"type", type}});
  };
  add("InternalIP", f.internal_ipv4);
  add("InternalIP", f.internal_ipv6);
  add("CiliumInternalIP", f.router_ipv4);
  add("CiliumInternalIP", f.router_ipv6);
  // Address types the agent does not manage (ExternalIP, ...) are kept.
  if (spec.contains("addresses") && spec["addresses"].is_array())
    for (const auto& a : spec["addresses"]) {
      std::string t = a.is_object() ? a.value("type", "") : "";
      if (t != "InternalIP" && t != "CiliumInternalIP") addrs.push_back(a);
    }
  spec["addresses"] = addrs;
  json health = json::object();
  if (f.health_ipv4) health["ipv4"] = f.health_ipv4->str();
  if (f.health_ipv6) health["ipv6"] = f.health_ipv6->str();
  spec["health"] = health;
  if (!f.boot_id.empty()) spec["bootid"] = f.boot_id;
  if (!f.pod_cidrs.empty() && (f.pod_cidrs_configured || pod_cidrs_of(obj).empty())) {
    json& ipam = object_at(spec, "ipam");
    ipam["podCIDRs"] = json::array();
    for (const auto& c : f.pod_cidrs) ipam["podCIDRs"].push_back(c.str());
  }
  if (existing && content(*existing) == content(obj)) return std::nullopt;
  return obj;
}

std::vector<IpPrefix> pod_cidrs_of(const json& node, std::vector<std::string>* bad) {
  std::vector<IpPrefix> out;
  auto spec = node.find("spec");
  if (spec == node.end() || !spec->is_object()) return out;
  auto ipam = spec->find("ipam");
  if (ipam == spec->end() || !ipam->is_object()) return out;
  auto list = ipam->find("podCIDRs");
  if (list == ipam->end() || !list->is_array()) return out;
  for (const auto& e : *list) {
    std::optional<IpPrefix> p;
    if (e.is_string()) p = IpPrefix::parse(e.get<std::string>());
    if (p)
      out.push_back(*p);
    else if (bad)
      bad->push_back(e.dump());
  }
  return out;
}

json with_pod_cidrs(json node, const std::vector<IpPrefix>& cidrs) {
  auto have = pod_cidrs_of(node);
  json& ipam = object_at(object_at(node, "spec"), "ipam");
  json list = json::array();
  for (const auto& c : have) list.push_back(c.str());
  for (const auto& c : cidrs) {
    bool family_present = false;
    for (const auto& h : have) family_present |= h.addr.v6 == c.addr.v6;
    if (!family_present) list.push_back(c.str());
  }
  ipam["podCIDRs"] = list;
  return with_operator_error(std::move(node), "");
}

json with_operator_error(json node, const std::string& error) {
  json& st = object_at(object_at(object_at(node, "status"), "ipam"), "operator-status");
  if (error.empty())
    st.erase("error");
  else
    st["error"] = error;
  return node;
}

std::string operator_error_of(const json& node) {
  auto s = node.find("status");
  if (s == node.end() || !s->is_object()) return "";
  auto i = s->find("ipam");
  if (i == s->end() || !i->is_object()) return "";
  auto o = i->find("operator-status");
  if (o == i->end() || !o->is_object()) return "";
  return o->value("error", "");
}

std::vector<IpAddr> node_addresses(const json& node, const std::string& type) {
  std::vector<IpAddr> out;
  auto spec = node.find("spec");
  if (spec == node.end() || !spec->is_object() || !spec->contains("addresses") || !(*spec)["addresses"].is_array())
    return out;
  for (const auto& a : (*spec)["addresses"]) {
    if (!a.is_object() || a.value("type", "") != type || !a.contains("ip") || !a["ip"].is_string()) continue;
    if (auto ip = IpAddr::parse(a["ip"].get<std::string>())) out.push_back(*ip);
  }
  return out;
}

}  // namespace cpp::ipam
