#include "hubble_server/flow_summary.h"

#include <netinet/in.h>

#include <map>
#include <vector>

namespace cpp::hubble {

namespace {

// A type's name and, for types whose code field has meaning, the code names.
struct IcmpType {
  const char* name;
  std::vector<const char*> codes;  // empty: the type does not use the code
};

const std::map<uint8_t, IcmpType>& icmpv4_types() {
  static const std::map<uint8_t, IcmpType> t = {
      {0, {"EchoReply", {}}},
      {3, {"DestinationUnreachable",
           {"Net", "Host", "Protocol", "Port", "FragmentationNeeded", "SourceRoutingFailed", "NetUnknown",
            "HostUnknown", "SourceIsolated", "NetAdminProhibited", "HostAdminProhibited", "NetTOS", "HostTOS",
            "CommAdminProhibited", "HostPrecedence", "PrecedenceCutoff"}}},
      {4, {"SourceQuench", {}}},
      {5, {"Redirect", {"Net", "Host", "TOS+Net", "TOS+Host"}}},
      {8, {"EchoRequest", {}}},
      {9, {"RouterAdvertisement", {}}},
      {10, {"RouterSolicitation", {}}},
      {11, {"TimeExceeded", {"TTLExceeded", "FragmentReassemblyTimeExceeded"}}},
      {12, {"ParameterProblem", {"PointerIndicatesError", "MissingOption", "BadLength"}}},
      {13, {"TimestampRequest", {}}},
      {14, {"TimestampReply", {}}},
      {15, {"InfoRequest", {}}},
      {16, {"InfoReply", {}}},
      {17, {"AddressMaskRequest", {}}},
      {18, {"AddressMaskReply", {}}},
  };
  return t;
}

const std::map<uint8_t, IcmpType>& icmpv6_types() {
  static const std::map<uint8_t, IcmpType> t = {
      {1, {"DestinationUnreachable",
           {"NoRouteToDst", "AdminProhibited", "BeyondScopeOfSrc", "AddressUnreachable", "PortUnreachable",
            "SrcAddressFailedPolicy", "RejectRouteToDst"}}},
      {2, {"PacketTooBig", {}}},
      {3, {"TimeExceeded", {"HopLimitExceeded", "FragmentReassemblyTimeExceeded"}}},
      {4, {"ParameterProblem", {"ErroneousHeaderField", "UnrecognizedNextHeader", "UnrecognizedIPv6Option"}}},
      {128, {"EchoRequest", {}}},
      {129, {"EchoReply", {}}},
      {133, {"RouterSolicitation", {}}},
      {134, {"RouterAdvertisement", {}}},
      {135, {"NeighborSolicitation", {}}},
      {136, {"NeighborAdvertisement", {}}},
      {137, {"Redirect", {}}},
  };
  return t;
}

std::string type_code_text(const std::map<uint8_t, IcmpType>& table, uint8_t type, uint8_t code) {
  auto it = table.find(type);
  if (it == table.end()) return std::to_string(type) + "(" + std::to_string(code) + ")";
  const IcmpType& t = it->second;
  if (t.codes.empty() && code == 0) return t.name;
  if (code < t.codes.size()) return std::string(t.name) + "(" + t.codes[code] + ")";
  return std::string(t.name) + "(Code: " + std::to_string(code) + ")";
}

}  // namespace

std::string tcp_flags_text(uint8_t flags) {
  // TCP header bits: FIN 0x01 SYN 0x02 RST 0x04 PSH 0x08 ACK 0x10 URG 0x20 ECE 0x40 CWR 0x80.
  static const std::pair<uint8_t, const char*> order[] = {{0x02, "SYN"}, {0x10, "ACK"}, {0x04, "RST"},
                                                          {0x01, "FIN"}, {0x08, "PSH"}, {0x20, "URG"},
                                                          {0x40, "ECE"}, {0x80, "CWR"}};
  std::string out;
  for (const auto& [bit, name] : order) {
    if (!(flags & bit)) continue;
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

std::string icmpv4_type_code_text(uint8_t type, uint8_t code) { return type_code_text(icmpv4_types(), type, code); }
std::string icmpv6_type_code_text(uint8_t type, uint8_t code) { return type_code_text(icmpv6_types(), type, code); }

std::string flow_summary(const Flow& f) {
  // Upstream's sock parser names the protocol only: no packet, no flags.
  if (f.type == FlowType::Sock) {
    switch (f.protocol) {
      case IPPROTO_TCP: return "TCP";
      case IPPROTO_UDP: return "UDP";
      default: return "Unknown";
    }
  }
  switch (f.protocol) {
    case IPPROTO_TCP: return "TCP Flags: " + tcp_flags_text(f.tcp_flags);
    case IPPROTO_UDP: return "UDP";
    case IPPROTO_SCTP: return "SCTP";
    case IPPROTO_ICMP: return "ICMPv4 " + icmpv4_type_code_text(f.icmp_type, f.icmp_code);
    case IPPROTO_ICMPV6: return "ICMPv6 " + icmpv6_type_code_text(f.icmp_type, f.icmp_code);
  }
  // Upstream names the last layer it decoded: the IP header.
  if (f.ip_version == 4) return "IPv4";
  if (f.ip_version == 6) return "IPv6";
  return "";
}

}  // namespace cpp::hubble
