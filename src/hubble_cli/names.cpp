#include "hubble_cli/names.h"

#include <array>
#include <map>
#include <vector>

namespace cpp::hubble_cli {

std::optional<int> event_type_by_name(const std::string& name) {
  static const std::map<std::string, int> kTypes{
      {"drop", kTypeDrop},
      {"trace", kTypeTrace},
      {"policy-verdict", kTypePolicyVerdict},
      {"trace-sock", kTypeTraceSock}};
  auto it = kTypes.find(name);
  if (it == kTypes.end()) return std::nullopt;
  return it->second;
}

std::string drop_reason_text(uint32_t reason) {
  // Upstream pkg/monitor/api/drop.go wording.
  static const std::map<uint32_t, const char*> kText{
      {130, "Invalid source mac"},
      {131, "Invalid destination mac"},
      {132, "Invalid source ip"},
      {133, "Policy denied"},
      {134, "Invalid packet"},
      {135, "CT: Truncated or invalid header"},
      {136, "CT: Missing TCP ACK flag"},
      {137, "CT: Unknown L4 protocol"},
      {138, "CT: Can't create entry from packet"},
      {139, "Unsupported L3 protocol"},
      {140, "Missed tail call"},
      {141, "Error writing to packet"},
      {142, "Unknown L4 protocol"},
      {143, "Unknown ICMPv4 code"},
      {144, "Unknown ICMPv4 type"},
      {145, "Unknown ICMPv6 code"},
      {146, "Unknown ICMPv6 type"},
      {147, "Error retrieving tunnel key"},
      {148, "Error retrieving tunnel options"},
      {149, "Invalid Geneve option"},
      {150, "Unknown L3 target address"},
      {151, "Stale or unroutable IP"},
      {152, "No matching local container found"},
      {153, "Error while correcting L3 checksum"},
      {154, "Error while correcting L4 checksum"},
      {155, "CT: Map insertion failed"},
      {156, "Invalid IPv6 extension header"},
      {157, "IP fragmentation not supported"},
      {158, "Service backend not found"},
      {160, "No tunnel/encapsulation endpoint (datapath BUG!)"},
      {162, "Reached EDT rate-limiting drop horizon"},
      {163, "Unknown connection tracking state"},
      {164, "Local host is unreachable"},
      {165, "No configuration available to perform policy decision"},
      {166, "Unsupported L2 protocol"},
      {167, "No mapping for NAT masquerade"},
      {168, "Unsupported protocol for NAT masquerade"},
      {169, "FIB lookup failed"},
      {170, "Encapsulation traffic is prohibited"},
      {171, "Invalid identity"},
      {172, "Unknown sender"},
      {173, "NAT not needed"},
      {174, "Is a ClusterIP"},
      {175, "First logical datagram fragment not found"},
      {176, "Forbidden ICMPv6 message"},
      {177, "Denied by LB src range check"},
      {178, "Socket lookup failed"},
      {179, "Socket assign failed"},
      {180, "Proxy redirection not supported for protocol"},
      {181, "Policy denied by denylist"},
      {182, "VLAN traffic disallowed by VLAN filter"},
      {183, "Incorrect VNI from VTEP"},
      {189, "Authentication required"},
      {190, "No conntrack map found"},
      {191, "No nat map found"},
      {192, "Invalid ClusterID"},
      {194, "No egress gateway found"},
      {196, "TTL exceeded"},
      {197, "No node ID found"},
  };
  auto it = kText.find(reason);
  return it == kText.end() ? std::to_string(reason) : it->second;
}

namespace {
// Upstream monitor numbering: index = trace point.
constexpr std::array<const char*, 14> kTracePoints{
    "to-endpoint", "to-proxy",     "to-host",      "to-stack",     "to-overlay", "from-endpoint", "from-proxy",
    "from-host",   "from-stack",   "from-overlay", "from-network", "to-network", "from-crypto",   "to-crypto"};
}  // namespace

std::optional<int> trace_point_by_name(const std::string& name) {
  for (size_t i = 0; i < kTracePoints.size(); ++i)
    if (name == kTracePoints[i]) return static_cast<int>(i);
  return std::nullopt;
}

std::string trace_point_name(flow::TraceObservationPoint p) {
  // The proto enum equals the monitor numbering except TO_ENDPOINT (101 ↔ 0).
  if (p == flow::TO_ENDPOINT) return kTracePoints[0];
  auto n = static_cast<size_t>(p);
  if (p == flow::UNKNOWN_POINT || n >= kTracePoints.size()) return "";
  return kTracePoints[n];
}

std::string xlate_point_name(flow::SocketTranslationPoint p) {
  switch (p) {
    case flow::SOCK_XLATE_POINT_PRE_DIRECTION_FWD: return "pre-xlate-fwd";
    case flow::SOCK_XLATE_POINT_POST_DIRECTION_FWD: return "post-xlate-fwd";
    case flow::SOCK_XLATE_POINT_PRE_DIRECTION_REV: return "pre-xlate-rev";
    case flow::SOCK_XLATE_POINT_POST_DIRECTION_REV: return "post-xlate-rev";
    default: return "unknown";
  }
}

std::string match_type_name(uint32_t m) {
  static constexpr std::array<const char*, 7> kNames{"none", "L3-Only", "L3-L4", "L4-Only", "all", "L3-Proto",
                                                     "Proto-only"};
  return m < kNames.size() ? kNames[m] : "unknown";
}

namespace {
const std::vector<std::pair<std::string, uint32_t>>& reserved() {
  static const std::vector<std::pair<std::string, uint32_t>> kReserved{
      {"unknown", 0}, {"host", 1},           {"world", 2},   {"unmanaged", 3},  {"health", 4},     {"init", 5},
      {"remote-node", 6}, {"kube-apiserver", 7}, {"ingress", 8}, {"world-ipv4", 9}, {"world-ipv6", 10}};
  return kReserved;
}
}  // namespace

std::optional<uint32_t> reserved_identity_by_name(const std::string& name) {
  for (const auto& [n, id] : reserved())
    if (n == name) return id;
  return std::nullopt;
}

std::string identity_label(uint32_t identity) {
  for (const auto& [n, id] : reserved())
    if (id == identity) return "(" + n + ")";
  return "(ID:" + std::to_string(identity) + ")";
}

std::string tcp_flags_text(const flow::TCPFlags& f, const char* sep) {
  std::string out;
  auto add = [&](bool set, const char* name) {
    if (!set) return;
    if (!out.empty()) out += sep;
    out += name;
  };
  add(f.syn(), "SYN");
  add(f.ack(), "ACK");
  add(f.rst(), "RST");
  add(f.fin(), "FIN");
  add(f.psh(), "PSH");
  add(f.urg(), "URG");
  add(f.ece(), "ECE");
  add(f.cwr(), "CWR");
  add(f.ns(), "NS");
  return out;
}

}  // namespace cpp::hubble_cli
