#include "hubble_cli/status_format.h"

#include <algorithm>
#include <cstdio>
#include <vector>

namespace cpp::hubble_cli {

std::string thousands(uint64_t n) {
  std::string digits = std::to_string(n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string go_duration(uint64_t ns) {
  uint64_t s = ns / 1000000000ULL;
  uint64_t h = s / 3600, m = (s % 3600) / 60, sec = s % 60;
  std::string out;
  if (h) out += std::to_string(h) + "h";
  if (h || m) out += std::to_string(m) + "m";
  out += std::to_string(sec) + "s";
  return out;
}

namespace {

std::string flows_fill(uint64_t num, uint64_t max) {
  char pct[32];
  snprintf(pct, sizeof pct, "%.2f%%", max ? 100.0 * static_cast<double>(num) / static_cast<double>(max) : 0.0);
  return thousands(num) + "/" + thousands(max) + " (" + pct + ")";
}

std::string rate(uint64_t seen, uint64_t uptime_ns) {
  char buf[32];
  snprintf(buf, sizeof buf, "%.2f", uptime_ns ? static_cast<double>(seen) / (static_cast<double>(uptime_ns) / 1e9) : 0.0);
  return buf;
}

}  // namespace

std::string format_healthcheck(const std::string& server, const std::string& status) {
  return "Healthcheck (via " + server + "): " + status + "\n";
}

std::string format_server_status(const observer::ServerStatusResponse& s) {
  std::string out = "Current/Max Flows: " + flows_fill(s.num_flows(), s.max_flows()) + "\n";
  out += "Flows/s: " + rate(s.seen_flows(), s.uptime_ns()) + "\n";
  if (s.has_num_connected_nodes()) {
    uint32_t up = s.num_connected_nodes().value();
    uint32_t down = s.has_num_unavailable_nodes() ? s.num_unavailable_nodes().value() : 0;
    out += "Connected Nodes: " + std::to_string(up) + "/" + std::to_string(up + down) + "\n";
  }
  if (s.unavailable_nodes_size() > 0) {
    out += "Unavailable Nodes:";
    for (const auto& n : s.unavailable_nodes()) out += " " + n;
    out += "\n";
  }
  return out;
}

std::string format_nodes(const observer::GetNodesResponse& n) {
  std::vector<std::vector<std::string>> rows{{"NAME", "STATUS", "AGE", "FLOWS/S", "CURRENT/MAX-FLOWS"}};
  for (const auto& node : n.nodes()) {
    std::string state = node.state() == relay::NODE_CONNECTED ? "Connected" : relay::NodeState_Name(node.state());
    rows.push_back({node.name(), state, go_duration(node.uptime_ns()), rate(node.seen_flows(), node.uptime_ns()),
                    flows_fill(node.num_flows(), node.max_flows())});
  }
  std::vector<size_t> w(rows[0].size(), 0);
  for (const auto& r : rows)
    for (size_t i = 0; i < r.size(); ++i) w[i] = std::max(w[i], r[i].size());
  std::string out;
  for (const auto& r : rows) {
    for (size_t i = 0; i < r.size(); ++i) {
      out += r[i];
      if (i + 1 < r.size()) out += std::string(w[i] - r[i].size() + 3, ' ');
    }
    out += "\n";
  }
  return out;
}

}  // namespace cpp::hubble_cli
