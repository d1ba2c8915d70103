#include "health/report.h"

#include <algorithm>
#include <stdexcept>

namespace cpp::health {
namespace {

using nlohmann::json;

[[noreturn]] void bad(const std::string& path, const std::string& why) {
  throw std::invalid_argument("health report: " + path + ": " + why);
}

const json& field(const json& j, const std::string& path, const char* key) {
  if (!j.is_object() || !j.contains(key)) bad(path + "." + key, "missing");
  return j[key];
}

std::string str_field(const json& j, const std::string& path, const char* key) {
  const auto& v = field(j, path, key);
  if (!v.is_string()) bad(path + "." + key, "must be a string");
  return v.get<std::string>();
}

int64_t int_field(const json& j, const std::string& path, const char* key) {
  const auto& v = field(j, path, key);
  if (!v.is_number_integer()) bad(path + "." + key, "must be an integer");
  return v.get<int64_t>();
}

ProbeResult probe_from_json(const json& j, const std::string& path) {
  ProbeResult r;
  auto s = str_field(j, path, "status");
  if (s == "ok")
    r.status = ProbeStatus::Ok;
  else if (s == "unreachable")
    r.status = ProbeStatus::Unreachable;
  else if (s == "pending")
    r.status = ProbeStatus::Pending;
  else
    bad(path + ".status", "unknown status \"" + s + "\"");
  r.latency_ns = int_field(j, path, "latency-ns");
  if (j.contains("error")) r.error = str_field(j, path, "error");
  return r;
}

json path_json(const PathHealth& p) { return {{"ip", p.ip.str()}, {"icmp", to_json(p.icmp)}, {"http", to_json(p.http)}}; }

PathHealth path_from_json(const json& j, const std::string& path) {
  PathHealth p;
  auto ip = str_field(j, path, "ip");
  auto a = IpAddr::parse(ip);
  if (!a) bad(path + ".ip", "invalid address \"" + ip + "\"");
  p.ip = *a;
  p.icmp = probe_from_json(field(j, path, "icmp"), path + ".icmp");
  p.http = probe_from_json(field(j, path, "http"), path + ".http");
  return p;
}

// Upstream's shape: {"primary-address": {...}, "secondary-addresses": [...]}.
json paths_json(const std::vector<PathHealth>& paths) {
  if (paths.empty()) return nullptr;
  json secondary = json::array();
  for (size_t i = 1; i < paths.size(); ++i) secondary.push_back(path_json(paths[i]));
  return {{"primary-address", path_json(paths[0])}, {"secondary-addresses", secondary}};
}

std::vector<PathHealth> paths_from_json(const json& j, const std::string& path) {
  std::vector<PathHealth> out;
  if (j.is_null()) return out;
  out.push_back(path_from_json(field(j, path, "primary-address"), path + ".primary-address"));
  const auto& sec = field(j, path, "secondary-addresses");
  if (!sec.is_array()) bad(path + ".secondary-addresses", "must be an array");
  for (size_t i = 0; i < sec.size(); ++i)
    out.push_back(path_from_json(sec[i], path + ".secondary-addresses[" + std::to_string(i) + "]"));
  return out;
}

}  // namespace

const char* to_string(ProbeStatus s) {
  switch (s) {
    case ProbeStatus::Ok: return "ok";
    case ProbeStatus::Unreachable: return "unreachable";
    case ProbeStatus::Pending: break;
  }
  return "pending";
}

bool NodeHealth::reachable() const {
  if (host.empty()) return false;
  auto ok = [](const PathHealth& p) { return p.ok(); };
  return std::all_of(host.begin(), host.end(), ok) && std::all_of(endpoint.begin(), endpoint.end(), ok);
}

size_t HealthReport::reachable_count() const {
  return static_cast<size_t>(std::count_if(nodes.begin(), nodes.end(), [](const NodeHealth& n) { return n.reachable(); }));
}

json to_json(const ProbeResult& r) {
  json j{{"status", to_string(r.status)}, {"latency-ns", r.latency_ns}};
  if (!r.error.empty()) j["error"] = r.error;
  return j;
}

json to_json(const HealthReport& r) {
  json nodes = json::array();
  for (const auto& n : r.nodes) {
    nodes.push_back({
        {"name", n.name},
        {"local", n.local},
        {"reachable", n.reachable()},
        {"node-ip", n.host.empty() ? "" : n.host[0].ip.str()},
        {"health-ip", n.endpoint.empty() ? "" : n.endpoint[0].ip.str()},
        {"host", paths_json(n.host)},
        {"health-endpoint", paths_json(n.endpoint)},
    });
  }
  return {{"local-node", r.local_node},
          {"probe-time-ms", r.probe_time_ms},
          {"interval-ms", r.interval_ms},
          {"reachable", r.reachable_count()},
          {"total", r.nodes.size()},
          {"nodes", nodes}};
}

HealthReport report_from_json(const json& j) {
  HealthReport r;
  if (!j.is_object()) bad("(top)", "must be an object");
  r.local_node = str_field(j, "", "local-node");
  r.probe_time_ms = int_field(j, "", "probe-time-ms");
  r.interval_ms = int_field(j, "", "interval-ms");
  const auto& nodes = field(j, "", "nodes");
  if (!nodes.is_array()) bad(".nodes", "must be an array");
  for (size_t i = 0; i < nodes.size(); ++i) {
    std::string path = ".nodes[" + std::to_string(i) + "]";
    NodeHealth n;
    n.name = str_field(nodes[i], path, "name");
    const auto& local = field(nodes[i], path, "local");
    if (!local.is_boolean()) bad(path + ".local", "must be a boolean");
    n.local = local.get<bool>();
    n.host = paths_from_json(field(nodes[i], path, "host"), path + ".host");
    n.endpoint = paths_from_json(field(nodes[i], path, "health-endpoint"), path + ".health-endpoint");
    r.nodes.push_back(std::move(n));
  }
  return r;
}

}  // namespace cpp::health
