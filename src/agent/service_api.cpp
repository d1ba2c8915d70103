#include "agent/service_api.h"

#include <set>
#include <stdexcept>

namespace cpp::agent {
namespace {

using nlohmann::json;
using service::FrontendType;
using service::Protocol;
using service::Scope;
using service::TrafficPolicy;

[[noreturn]] void bad(const std::string& field, const std::string& why) {
  throw std::invalid_argument(field + ": " + why);
}

std::string str_field(const json& obj, const std::string& key, const std::string& path, const std::string& def) {
  if (!obj.contains(key) || obj[key].is_null()) return def;
  if (!obj[key].is_string()) bad(path + key, "must be a string");
  return obj[key].get<std::string>();
}

IpAddr ip_field(const json& obj, const std::string& path) {
  if (!obj.contains("ip") || !obj["ip"].is_string()) bad(path + "ip", "required (an IPv4 or IPv6 address)");
  auto a = IpAddr::parse(obj["ip"].get<std::string>());
  if (!a) bad(path + "ip", "\"" + obj["ip"].get<std::string>() + "\" is not an IP address");
  return *a;
}

uint16_t port_field(const json& obj, const std::string& path) {
  if (!obj.contains("port") || !obj["port"].is_number_integer()) bad(path + "port", "required (1..65535)");
  auto p = obj["port"].get<int64_t>();
  if (p < 1 || p > 65535) bad(path + "port", std::to_string(p) + " is outside 1..65535");
  return static_cast<uint16_t>(p);
}

Protocol proto_field(const json& obj, const std::string& path) {
  std::string p = str_field(obj, "protocol", path, "TCP");
  if (p == "TCP" || p == "tcp") return Protocol::TCP;
  if (p == "UDP" || p == "udp") return Protocol::UDP;
  if (p == "SCTP" || p == "sctp") return Protocol::SCTP;
  bad(path + "protocol", "\"" + p + "\" is not TCP, UDP or SCTP");
}

TrafficPolicy policy_field(const json& flags, const std::string& key, TrafficPolicy def) {
  std::string v = str_field(flags, key, "flags.", def == TrafficPolicy::Local ? "Local" : "Cluster");
  if (v == "Cluster") return TrafficPolicy::Cluster;
  if (v == "Local") return TrafficPolicy::Local;
  bad("flags." + key, "\"" + v + "\" is not Cluster or Local");
}

const char* policy_str(TrafficPolicy p) { return p == TrafficPolicy::Local ? "Local" : "Cluster"; }

FrontendType type_of(const std::string& t) {
  if (t == "ClusterIP") return FrontendType::ClusterIP;
  if (t == "NodePort") return FrontendType::NodePort;
  if (t == "ExternalIPs") return FrontendType::ExternalIP;
  if (t == "LoadBalancer") return FrontendType::LoadBalancer;
  bad("flags.type", "\"" + t + "\" is not ClusterIP, NodePort, ExternalIPs or LoadBalancer");
}

json l4_json(const service::L4Addr& a) {
  return {{"ip", a.addr.str()}, {"port", a.port}, {"protocol", service::to_string(a.protocol)}};
}

}  // namespace

std::string ApiService::key() const { return "api/" + std::to_string(id); }

ApiService parse_service_spec(const json& body, uint16_t path_id) {
  if (!body.is_object()) bad("body", "must be a JSON object (ServiceSpec)");
  ApiService s;
  s.id = path_id;
  if (body.contains("id") && !body["id"].is_null()) {
    if (!body["id"].is_number_integer()) bad("id", "must be an integer");
    if (body["id"].get<int64_t>() != path_id)
      bad("id", std::to_string(body["id"].get<int64_t>()) + " differs from the id in the path (" +
                    std::to_string(path_id) + ")");
  }
  if (path_id == 0) bad("id", "must be 1..65535");
  if (!body.contains("frontend-address") || !body["frontend-address"].is_object())
    bad("frontend-address", "required ({ip, port, protocol, scope})");
  const json& fe = body["frontend-address"];
  s.frontend.addr = ip_field(fe, "frontend-address.");
  s.frontend.port = port_field(fe, "frontend-address.");
  s.frontend.protocol = proto_field(fe, "frontend-address.");
  std::string scope = str_field(fe, "scope", "frontend-address.", "external");
  if (scope == "internal" || scope == "i")
    s.internal_only = true;
  else if (scope != "external" && scope != "e" && !scope.empty())
    bad("frontend-address.scope", "\"" + scope + "\" is not external or internal");

  json flags = body.value("flags", json::object());
  if (!flags.is_object()) bad("flags", "must be an object");
  s.type = type_of(str_field(flags, "type", "flags.", "ClusterIP"));
  TrafficPolicy tp = policy_field(flags, "trafficPolicy", TrafficPolicy::Cluster);
  s.ext_policy = policy_field(flags, "extTrafficPolicy", tp);
  s.int_policy = policy_field(flags, "intTrafficPolicy", tp);
  s.name = str_field(flags, "name", "flags.", "");
  s.ns = str_field(flags, "namespace", "flags.", "");

  if (body.contains("backend-addresses") && !body["backend-addresses"].is_null()) {
    const json& bes = body["backend-addresses"];
    if (!bes.is_array()) bad("backend-addresses", "must be an array");
    std::vector<service::BackendSpec> active, terminating;
    std::set<service::L4Addr> seen;
    for (size_t i = 0; i < bes.size(); ++i) {
      std::string p = "backend-addresses[" + std::to_string(i) + "].";
      if (!bes[i].is_object()) bad(p.substr(0, p.size() - 1), "must be an object {ip, port}");
      service::BackendSpec b;
      b.addr.addr = ip_field(bes[i], p);
      b.addr.port = port_field(bes[i], p);
      b.addr.protocol = s.frontend.protocol;
      if (b.addr.addr.v6 != s.frontend.addr.v6)
        bad(p + "ip", b.addr.addr.str() + " is not of the frontend's family");
      b.node_name = str_field(bes[i], "nodeName", p, "");
      std::string state = str_field(bes[i], "state", p, "active");
      if (state == "active") {
        active.push_back(b);
      } else if (state == "terminating") {
        b.terminating = true;
        terminating.push_back(b);
      } else {
        bad(p + "state", "\"" + state + "\" is not active or terminating");
      }
      if (!seen.insert(b.addr).second) bad(p + "ip", b.addr.str() + " is listed twice");
    }
    s.backends = active;
    s.backends.insert(s.backends.end(), terminating.begin(), terminating.end());
  }
  return s;
}

std::vector<service::Frontend> api_frontends(const ApiService& s, bool external_cluster_ip) {
  auto make = [&](Scope scope) {
    service::Frontend f;
    f.addr = s.frontend;
    f.scope = scope;
    f.type = s.type;
    f.service = s.key();
    f.backends = s.backends;
    f.local = (scope == Scope::External ? s.ext_policy : s.int_policy) == TrafficPolicy::Local;
    return f;
  };
  bool outside = s.type != FrontendType::ClusterIP || external_cluster_ip;
  if (s.internal_only || !outside) return {make(Scope::Internal)};
  return {make(Scope::External), make(Scope::Internal)};
}

json service_entry_json(uint16_t id, const service::Frontend& f, const std::string& ns, const std::string& name) {
  json fe = l4_json(f.addr);
  fe["scope"] = f.scope == Scope::External ? "external" : "internal";
  json bes = json::array();
  for (const auto& b : f.backends) {
    json j = l4_json(b.addr);
    j["state"] = b.terminating ? "terminating" : "active";
    if (!b.node_name.empty()) j["nodeName"] = b.node_name;
    bes.push_back(j);
  }
  const char* policy = f.local ? "Local" : "Cluster";
  json flags{{"type", service::to_string(f.type)},
             {"trafficPolicy", policy},
             {f.scope == Scope::External ? "extTrafficPolicy" : "intTrafficPolicy", policy},
             {"name", name},
             {"namespace", ns}};
  if (f.affinity) flags["sessionAffinity"] = true, flags["sessionAffinityTimeout"] = f.affinity_timeout_s;
  json spec{{"id", id}, {"frontend-address", fe}, {"backend-addresses", bes}, {"flags", flags}};
  return {{"spec", spec}, {"status", {{"realized", spec}}}};
}

json api_service_json(const ApiService& s) {
  json bes = json::array();
  for (const auto& b : s.backends) {
    json j = l4_json(b.addr);
    j["state"] = b.terminating ? "terminating" : "active";
    if (!b.node_name.empty()) j["nodeName"] = b.node_name;
    bes.push_back(j);
  }
  json fe = l4_json(s.frontend);
  fe["scope"] = s.internal_only ? "internal" : "external";
  return {{"id", s.id},
          {"frontend-address", fe},
          {"backend-addresses", bes},
          {"flags",
           {{"type", service::to_string(s.type)},
            {"extTrafficPolicy", policy_str(s.ext_policy)},
            {"intTrafficPolicy", policy_str(s.int_policy)},
            {"name", s.name},
            {"namespace", s.ns}}}};
}

ApiService api_service_from_json(const json& j) {
  if (!j.is_object() || !j.contains("id") || !j["id"].is_number_integer())
    throw std::invalid_argument("id: required");
  return parse_service_spec(j, static_cast<uint16_t>(j["id"].get<int64_t>()));
}

}  // namespace cpp::agent
