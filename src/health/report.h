#pragma once
// The result model of node health probing (upstream cilium-health's
// HealthStatusResponse): per node, per address, the outcome and round-trip
// time of an ICMP echo and of an HTTP GET to the health port.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/ip.h"

namespace cpp::health {

enum class ProbeStatus { Pending, Ok, Unreachable };
const char* to_string(ProbeStatus s);  // "pending", "ok", "unreachable"

struct ProbeResult {
  ProbeStatus status = ProbeStatus::Pending;
  int64_t latency_ns = 0;  // round trip; only meaningful when Ok
  std::string error;       // why it failed; empty when Ok

  static ProbeResult ok(int64_t latency_ns) { return {ProbeStatus::Ok, latency_ns, ""}; }
  static ProbeResult failed(std::string why) { return {ProbeStatus::Unreachable, 0, std::move(why)}; }
};

// One address of a node (or of its health endpoint) and how it answered.
struct PathHealth {
  IpAddr ip;
  ProbeResult icmp;
  ProbeResult http;
  bool ok() const { return icmp.status == ProbeStatus::Ok && http.status == ProbeStatus::Ok; }
};

struct NodeHealth {
  std::string name;
  bool local = false;
  std::vector<PathHealth> host;      // the node's own addresses, primary first
  std::vector<PathHealth> endpoint;  // its health endpoint's addresses, primary first
  // Upstream's rule: a node is reachable when every address probed answered
  // both probes (and there was at least one host address to probe).
  bool reachable() const;
};

struct HealthReport {
  std::string local_node;
  int64_t probe_time_ms = 0;  // Unix time of the last finished round; 0 = none yet
  int64_t interval_ms = 0;
  std::vector<NodeHealth> nodes;
  size_t reachable_count() const;
};

nlohmann::json to_json(const ProbeResult& r);
nlohmann::json to_json(const HealthReport& r);
// Inverse of to_json; throws std::invalid_argument naming the bad field.
HealthReport report_from_json(const nlohmann::json& j);

}  // namespace cpp::health
