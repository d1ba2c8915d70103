#include "health/format.h"

#include <ctime>
#include <sstream>

namespace cpp::health {
namespace {

// "<int>.<frac>" with the fraction's trailing zeros (and a lone '.') removed.
std::string with_fraction(int64_t v, int64_t unit, int digits) {
  std::string s = std::to_string(v / unit);
  std::string frac = std::to_string(v % unit);
  frac.insert(0, static_cast<size_t>(digits) - frac.size(), '0');
  while (!frac.empty() && frac.back() == '0') frac.pop_back();
  if (!frac.empty()) s += "." + frac;
  return s;
}

void print_paths(std::ostringstream& o, const char* what, const std::vector<PathHealth>& paths, bool verbose) {
  for (size_t i = 0; i < paths.size(); ++i) {
    if (i > 0 && !verbose) break;
    const auto& p = paths[i];
    o << "    " << what << (i == 0 ? "" : " (secondary)") << " connectivity to " << p.ip.str() << ":\n";
    o << "      ICMP to stack:   " << format_probe(p.icmp) << "\n";
    o << "      HTTP to agent:   " << format_probe(p.http) << "\n";
  }
}

}  // namespace

std::string format_go_duration(int64_t ns) {
  if (ns == 0) return "0s";
  std::string sign = ns < 0 ? "-" : "";
  uint64_t u = ns < 0 ? static_cast<uint64_t>(-(ns + 1)) + 1 : static_cast<uint64_t>(ns);
  auto v = static_cast<int64_t>(u);
  if (u < 1000) return sign + std::to_string(u) + "ns";
  if (u < 1000000) return sign + with_fraction(v, 1000, 3) + "µs";
  if (u < 1000000000) return sign + with_fraction(v, 1000000, 6) + "ms";
  int64_t total_s = v / 1000000000;
  int64_t sub = v % 1000000000;
  std::string out = sign;
  if (total_s >= 3600) out += std::to_string(total_s / 3600) + "h";
  if (total_s >= 60) out += std::to_string(total_s / 60 % 60) + "m";
  out += with_fraction(total_s % 60 * 1000000000 + sub, 1000000000, 9) + "s";
  return out;
}

std::string format_rfc3339(int64_t unix_ms) {
  std::time_t t = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string format_probe(const ProbeResult& r) {
  switch (r.status) {
    case ProbeStatus::Ok: return "OK, RTT=" + format_go_duration(r.latency_ns);
    case ProbeStatus::Unreachable: return r.error.empty() ? "unreachable" : r.error;
    case ProbeStatus::Pending: break;
  }
  return "not probed yet";
}

std::string format_status(const HealthReport& r, bool verbose) {
  std::ostringstream o;
  if (r.probe_time_ms == 0) {
    o << "Cluster health:   no probe has finished yet\n";
    return o.str();
  }
  std::string when = format_rfc3339(r.probe_time_ms);
  o << "Cluster health:   " << r.reachable_count() << "/" << r.nodes.size() << " reachable   (" << when << ")\n";
  o << "Probe time:   " << when << "\n";
  o << "Nodes:\n";
  for (const auto& n : r.nodes) {
    o << "  " << n.name << (n.local ? " (localhost)" : "") << ":\n";
    if (n.host.empty()) o << "    Host connectivity: no address known\n";
    print_paths(o, "Host", n.host, verbose);
    print_paths(o, "Endpoint", n.endpoint, verbose);
  }
  return o.str();
}

}  // namespace cpp::health
