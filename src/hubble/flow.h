#pragma once
// Hubble's flow record, as ciliumpp keeps it in memory: one per datapath
// event (drop, policy verdict, trace, trace-sock), enriched with what the agent knows
// about the addresses (endpoint, pod, identity labels, service, policy).
// The observer API converts it to upstream's flow.Flow message on the way
// out (hubble/proto_convert.h); filters run on this struct.
//
// Memory: per-identity labels, per-endpoint names and per-rule policy
// references are shared (shared_ptr to immutable data), so a stored flow is
// the fixed-size part plus a few pointers.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/ip.h"

namespace cpp::hubble {

// Upstream flow.Verdict numbering.
enum class Verdict : uint8_t { Unknown = 0, Forwarded = 1, Dropped = 2, Error = 3, Audit = 4, Redirected = 5,
                               Traced = 6, Translated = 7 };
// Upstream flow.TrafficDirection numbering.
enum class TrafficDirection : uint8_t { Unknown = 0, Ingress = 1, Egress = 2 };

// Upstream monitor message types (pkg/monitor/api), carried in
// flow.event_type.type.
inline constexpr int kMonitorTypeDrop = 1;
inline constexpr int kMonitorTypeTrace = 4;
inline constexpr int kMonitorTypePolicyVerdict = 5;
inline constexpr int kMonitorTypeTraceSock = 7;

// Upstream flow.FlowType numbering.
enum class FlowType : uint8_t { Unknown = 0, L3L4 = 1, L7 = 2, Sock = 3 };

// Immutable facts about one side of a flow that many flows share.
struct EndpointInfo {
  uint32_t id = 0;        // local endpoint ID, 0 if not a local endpoint
  uint32_t identity = 0;  // security identity
  std::string namespace_;
  std::string pod_name;
  std::vector<std::string> labels;  // "k8s:app=frontend", sorted
};

struct PolicyRef {
  std::string name;
  std::string namespace_;  // empty for cluster-wide kinds
  std::string kind;        // "CiliumNetworkPolicy", "CiliumClusterwideNetworkPolicy", "NetworkPolicy"
  std::vector<std::string> labels;  // upstream's derived policy labels
  uint64_t revision = 0;
  std::string rule;        // which rule: "spec.ingress[0]"
};

struct ServiceRef {
  std::string name;
  std::string namespace_;
};

struct Flow {
  int64_t time_ns = 0;  // wall clock (UNIX epoch), converted from the event's monotonic stamp
  std::string node_name;

  Verdict verdict = Verdict::Unknown;
  uint8_t drop_reason = 0;   // CPP_DROP_* / upstream DropReason; 0 unless dropped or denied
  int event_type = 0;        // kMonitorType*
  int event_sub_type = 0;    // drop: reason; trace: observation point
  uint8_t trace_observation_point = 0;  // CPP_OBS_* (upstream numbering), traces only
  TrafficDirection traffic_direction = TrafficDirection::Unknown;
  std::optional<bool> is_reply;  // unknown for drops of unparsed packets
  uint32_t policy_match_type = 0;  // policy verdicts: upstream's match type (CPP_MATCH_*: 1 L3-Only, 2 L3-L4, ...)
  FlowType type = FlowType::L3L4;
  // Trace-sock flows (Type SOCK): upstream's SocketTranslationPoint
  // (CPP_XLATE_*), the socket and the cgroup of the task that used it.
  uint8_t sock_xlate_point = 0;
  uint64_t socket_cookie = 0;
  uint64_t cgroup_id = 0;

  // L3/L4. ip_version 0 = no IP (never produced today).
  uint8_t ip_version = 0;     // 4 or 6
  IpAddr src_ip, dst_ip;
  uint8_t protocol = 0;       // IPPROTO_TCP/UDP/ICMP/ICMPV6/SCTP
  uint16_t src_port = 0, dst_port = 0;  // TCP/UDP/SCTP
  uint8_t tcp_flags = 0;      // TCP header flags byte
  uint8_t icmp_type = 0, icmp_code = 0;
  uint32_t length = 0;        // packet length

  std::shared_ptr<const EndpointInfo> source;       // never null once parsed
  std::shared_ptr<const EndpointInfo> destination;  // never null once parsed
  std::optional<ServiceRef> destination_service;    // the service the client addressed, when translated
  // Trace-sock reverse points: the service that answered. Only those flows
  // name it: a pointer keeps every other stored flow small.
  std::shared_ptr<const ServiceRef> source_service;

  uint32_t ifindex = 0;
  std::string ifname;

  std::vector<std::shared_ptr<const PolicyRef>> egress_allowed_by, ingress_allowed_by;
  std::vector<std::shared_ptr<const PolicyRef>> egress_denied_by, ingress_denied_by;
};

// Upstream's name of a drop reason ("POLICY_DENIED"), as flow.DropReason
// spells it; "DROP_REASON_UNKNOWN" for numbers it does not know.
const char* drop_reason_name(uint8_t reason);
// Upstream's human text of a drop reason ("Policy denied"), as
// `cilium-dbg monitor` and the cilium_drop_count_total label print it; the
// number ("250") for reasons upstream does not know.
const char* drop_reason_text(uint8_t reason);
const char* verdict_name(Verdict v);       // "FORWARDED"
const char* observation_point_name(uint8_t p);  // "TO_ENDPOINT"; "UNKNOWN_POINT"
// flow.SocketTranslationPoint name: "SOCK_XLATE_POINT_PRE_DIRECTION_FWD".
const char* sock_xlate_point_name(uint8_t p);

}  // namespace cpp::hubble
