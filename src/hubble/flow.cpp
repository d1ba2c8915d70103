#include "hubble/flow.h"

#include <array>
#include <string>

namespace cpp::hubble {
namespace {

struct ReasonInfo {
  uint8_t code;
  const char* name;  // flow.DropReason
  const char* text;  // what upstream's monitor prints
};

// Upstream's drop reasons: names from flow.proto's DropReason, texts from
// the monitor's drop notification table.
constexpr ReasonInfo kReasons[] = {
    {130, "INVALID_SOURCE_MAC", "Invalid source mac"},
    {131, "INVALID_DESTINATION_MAC", "Invalid destination mac"},
    {132, "INVALID_SOURCE_IP", "Invalid source ip"},
    {133, "POLICY_DENIED", "Policy denied"},
    {134, "INVALID_PACKET_DROPPED", "Invalid packet"},
    {135, "CT_TRUNCATED_OR_INVALID_HEADER", "CT: Truncated or invalid header"},
    {136, "CT_MISSING_TCP_ACK_FLAG", "CT: Missing TCP ACK flag"},
    {137, "CT_UNKNOWN_L4_PROTOCOL", "CT: Unknown L4 protocol"},
    {138, "CT_CANNOT_CREATE_ENTRY_FROM_PACKET", "CT: Can't create entry from packet"},
    {139, "UNSUPPORTED_L3_PROTOCOL", "Unsupported L3 protocol"},
    {140, "MISSED_TAIL_CALL", "Missed tail call"},
    {141, "ERROR_WRITING_TO_PACKET", "Error writing to packet"},
    {142, "UNKNOWN_L4_PROTOCOL", "Unknown L4 protocol"},
    {143, "UNKNOWN_ICMPV4_CODE", "Unknown ICMPv4 code"},
    {144, "UNKNOWN_ICMPV4_TYPE", "Unknown ICMPv4 type"},
    {145, "UNKNOWN_ICMPV6_CODE", "Unknown ICMPv6 code"},
    {146, "UNKNOWN_ICMPV6_TYPE", "Unknown ICMPv6 type"},
    {147, "ERROR_RETRIEVING_TUNNEL_KEY", "Error retrieving tunnel key"},
    {148, "ERROR_RETRIEVING_TUNNEL_OPTIONS", "Error retrieving tunnel options"},
    {149, "INVALID_GENEVE_OPTION", "Invalid Geneve option"},
    {150, "UNKNOWN_L3_TARGET_ADDRESS", "Unknown L3 target address"},
    {151, "STALE_OR_UNROUTABLE_IP", "Stale or unroutable IP"},
    {152, "NO_MATCHING_LOCAL_CONTAINER_FOUND", "No matching local container found"},
    {153, "ERROR_WHILE_CORRECTING_L3_CHECKSUM", "Error while correcting L3 checksum"},
    {154, "ERROR_WHILE_CORRECTING_L4_CHECKSUM", "Error while correcting L4 checksum"},
    {155, "CT_MAP_INSERTION_FAILED", "CT: Map insertion failed"},
    {156, "INVALID_IPV6_EXTENSION_HEADER", "Invalid IPv6 extension header"},
    {157, "IP_FRAGMENTATION_NOT_SUPPORTED", "IP fragmentation not supported"},
    {158, "SERVICE_BACKEND_NOT_FOUND", "Service backend not found"},
    {160, "NO_TUNNEL_OR_ENCAPSULATION_ENDPOINT", "No tunnel/encapsulation endpoint (datapath BUG!)"},
    {161, "FAILED_TO_INSERT_INTO_PROXYMAP", "Failed to insert into proxymap"},
    {162, "REACHED_EDT_RATE_LIMITING_DROP_HORIZON", "Reached EDT rate-limiting drop horizon"},
    {163, "UNKNOWN_CONNECTION_TRACKING_STATE", "Unknown connection tracking state"},
    {164, "LOCAL_HOST_IS_UNREACHABLE", "Local host is unreachable"},
    {165, "NO_CONFIGURATION_AVAILABLE_TO_PERFORM_POLICY_DECISION",
     "No configuration available to perform policy decision"},
    {166, "UNSUPPORTED_L2_PROTOCOL", "Unsupported L2 protocol"},
    {167, "NO_MAPPING_FOR_NAT_MASQUERADE", "No mapping for NAT masquerade"},
    {168, "UNSUPPORTED_PROTOCOL_FOR_NAT_MASQUERADE", "Unsupported protocol for NAT masquerade"},
    {169, "FIB_LOOKUP_FAILED", "FIB lookup failed"},
    {170, "ENCAPSULATION_TRAFFIC_IS_PROHIBITED", "Encapsulation traffic is prohibited"},
    {171, "INVALID_IDENTITY", "Invalid identity"},
    {172, "UNKNOWN_SENDER", "Unknown sender"},
    {173, "NAT_NOT_NEEDED", "NAT not needed"},
    {174, "IS_A_CLUSTERIP", "Is a ClusterIP"},
    {175, "FIRST_LOGICAL_DATAGRAM_FRAGMENT_NOT_FOUND", "First logical datagram fragment not found"},
    {176, "FORBIDDEN_ICMPV6_MESSAGE", "Forbidden ICMPv6 message"},
    {177, "DENIED_BY_LB_SRC_RANGE_CHECK", "Denied by LB src range check"},
    {178, "SOCKET_LOOKUP_FAILED", "Socket lookup failed"},
    {179, "SOCKET_ASSIGN_FAILED", "Socket assign failed"},
    {180, "PROXY_REDIRECTION_NOT_SUPPORTED_FOR_PROTOCOL", "Proxy redirection not supported for protocol"},
    {181, "POLICY_DENY", "Policy denied by denylist"},
    {182, "VLAN_FILTERED", "VLAN traffic disallowed by VLAN filter"},
    {183, "INVALID_VNI", "Incorrect VNI from VTEP"},
    {184, "INVALID_TC_BUFFER", "Failed to update or lookup TC buffer"},
    {185, "NO_SID", "No SID was found for the IP address"},
    {186, "MISSING_SRV6_STATE", "SRv6 state was removed during tail call"},
    {187, "NAT46", "L3 translation from IPv4 to IPv6 failed (NAT46)"},
    {188, "NAT64", "L3 translation from IPv6 to IPv4 failed (NAT64)"},
    {189, "AUTH_REQUIRED", "Authentication required"},
    {190, "CT_NO_MAP_FOUND", "No conntrack map found"},
    {191, "SNAT_NO_MAP_FOUND", "No nat map found"},
    {192, "INVALID_CLUSTER_ID", "Invalid ClusterID"},
    {193, "UNSUPPORTED_PROTOCOL_FOR_DSR_ENCAP", "Unsupported packet protocol for DSR encapsulation"},
    {194, "NO_EGRESS_GATEWAY", "No egress gateway found"},
    {196, "TTL_EXCEEDED", "TTL exceeded"},
    {197, "NO_NODE_ID", "No node ID found"},
};

struct ReasonTable {
  std::array<const char*, 256> names{};
  std::array<const char*, 256> texts{};
  // Upstream prints an unknown reason as its number.
  std::array<std::string, 256> numbers;

  ReasonTable() {
    for (int i = 0; i < 256; ++i) {
      numbers[i] = std::to_string(i);
      names[i] = "DROP_REASON_UNKNOWN";
      texts[i] = numbers[i].c_str();
    }
    for (const auto& r : kReasons) {
      names[r.code] = r.name;
      texts[r.code] = r.text;
    }
  }
};

const ReasonTable& reasons() {
  static const ReasonTable t;
  return t;
}

}  // namespace

const char* drop_reason_name(uint8_t reason) { return reasons().names[reason]; }
const char* drop_reason_text(uint8_t reason) { return reasons().texts[reason]; }

const char* verdict_name(Verdict v) {
  switch (v) {
    case Verdict::Unknown: return "VERDICT_UNKNOWN";
    case Verdict::Forwarded: return "FORWARDED";
    case Verdict::Dropped: return "DROPPED";
    case Verdict::Error: return "ERROR";
    case Verdict::Audit: return "AUDIT";
    case Verdict::Redirected: return "REDIRECTED";
    case Verdict::Traced: return "TRACED";
    case Verdict::Translated: return "TRANSLATED";
  }
  return "VERDICT_UNKNOWN";
}

const char* observation_point_name(uint8_t p) {
  switch (p) {
    case 1: return "TO_PROXY";
    case 2: return "TO_HOST";
    case 3: return "TO_STACK";
    case 4: return "TO_OVERLAY";
    case 5: return "FROM_ENDPOINT";
    case 6: return "FROM_PROXY";
    case 7: return "FROM_HOST";
    case 8: return "FROM_STACK";
    case 9: return "FROM_OVERLAY";
    case 10: return "FROM_NETWORK";
    case 11: return "TO_NETWORK";
    case 101: return "TO_ENDPOINT";
    default: return "UNKNOWN_POINT";
  }
}

const char* sock_xlate_point_name(uint8_t p) {
  switch (p) {
    case 1: return "SOCK_XLATE_POINT_PRE_DIRECTION_FWD";
    case 2: return "SOCK_XLATE_POINT_POST_DIRECTION_FWD";
    case 3: return "SOCK_XLATE_POINT_PRE_DIRECTION_REV";
    case 4: return "SOCK_XLATE_POINT_POST_DIRECTION_REV";
    default: return "SOCK_XLATE_POINT_UNKNOWN";
  }
}

}  // namespace cpp::hubble
