#include "hubble_cli/monitor_format.h"

#include "hubble_cli/flow_printer.h"
#include "hubble_cli/names.h"

namespace cpp::hubble_cli {

namespace {

// The local endpoint a flow is about: the destination on ingress.
uint32_t local_endpoint(const flow::Flow& f) {
  if (f.traffic_direction() == flow::EGRESS) return f.source().id();
  if (f.destination().id() != 0) return f.destination().id();
  return f.source().id();
}

std::string ifname_or_index(const flow::Flow& f) {
  if (!f.interface().name().empty()) return f.interface().name();
  return std::to_string(f.interface().index());
}

std::string trace_prefix(const flow::Flow& f) {
  switch (f.trace_observation_point()) {
    case flow::TO_ENDPOINT: return "-> endpoint " + std::to_string(f.destination().id());
    case flow::TO_PROXY: return "-> proxy";
    case flow::TO_HOST: return "-> host";
    case flow::TO_STACK: return "-> stack";
    case flow::TO_OVERLAY: return "-> overlay";
    case flow::TO_NETWORK: return "-> network";
    case flow::FROM_ENDPOINT: return "<- endpoint " + std::to_string(f.source().id());
    case flow::FROM_PROXY: return "<- proxy";
    case flow::FROM_HOST: return "<- host";
    case flow::FROM_STACK: return "<- stack";
    case flow::FROM_OVERLAY: return "<- overlay";
    case flow::FROM_NETWORK: return "<- network";
    default: return "-> unknown";
  }
}

// Connection-tracking state as the monitor names it; a flow knows only
// whether it is a reply, and a SYN without ACK opens a connection.
std::string ct_state(const flow::Flow& f) {
  if (f.has_is_reply() && f.is_reply().value()) return "reply";
  const auto& fl = f.l4().tcp().flags();
  if (!f.l4().has_tcp() || (fl.syn() && !fl.ack())) return "new";
  return "established";
}

uint32_t proto_number(const flow::Flow& f) {
  const auto& l4 = f.l4();
  if (l4.has_tcp()) return 6;
  if (l4.has_udp()) return 17;
  if (l4.has_icmpv4()) return 1;
  if (l4.has_icmpv6()) return 58;
  if (l4.has_sctp()) return 132;
  return 0;
}

}  // namespace

std::string connection_summary(const flow::Flow& f) {
  const auto& l4 = f.l4();
  const std::string& s = f.ip().source();
  const std::string& d = f.ip().destination();
  if (l4.has_tcp()) {
    std::string flags = tcp_flags_text(l4.tcp().flags());
    return host_port(s, l4.tcp().source_port()) + " -> " + host_port(d, l4.tcp().destination_port()) + " tcp" +
           (flags.empty() ? "" : " " + flags);
  }
  if (l4.has_udp())
    return host_port(s, l4.udp().source_port()) + " -> " + host_port(d, l4.udp().destination_port()) + " udp";
  if (l4.has_sctp())
    return host_port(s, l4.sctp().source_port()) + " -> " + host_port(d, l4.sctp().destination_port()) + " sctp";
  if (l4.has_icmpv4()) return s + " -> " + d + " icmp " + std::to_string(l4.icmpv4().type());
  if (l4.has_icmpv6()) return s + " -> " + d + " icmpv6 " + std::to_string(l4.icmpv6().type());
  return s + " -> " + d;
}

std::string monitor_line(const flow::Flow& f) {
  std::string ids = std::to_string(f.source().identity()) + "->" + std::to_string(f.destination().identity());
  switch (f.event_type().type()) {
    case kTypeDrop: {
      uint32_t reason = f.drop_reason_desc() != flow::DROP_REASON_UNKNOWN
                            ? static_cast<uint32_t>(f.drop_reason_desc())
                            : static_cast<uint32_t>(f.event_type().sub_type());
      return "xx drop (" + drop_reason_text(reason) + ") flow 0x0 to endpoint " +
             std::to_string(f.destination().id()) + ", ifindex " + std::to_string(f.interface().index()) +
             ", file bpf_lxc.c:0, , identity " + ids + ": " + connection_summary(f);
    }
    case kTypeTrace:
      return trace_prefix(f) + " flow 0x0 , identity " + ids + " state " + ct_state(f) + " ifindex " +
             ifname_or_index(f) + " orig-ip " + f.ip().source() + ": " + connection_summary(f);
    case kTypePolicyVerdict: {
      bool ingress = f.traffic_direction() != flow::EGRESS;
      uint32_t remote = ingress ? f.source().identity() : f.destination().identity();
      std::string action = f.verdict() == flow::FORWARDED ? "allow"
                           : f.verdict() == flow::AUDIT   ? "audit"
                                                          : "deny";
      std::string policy = flow_policies(f);
      return "Policy verdict log: flow 0x0 local EP ID " + std::to_string(local_endpoint(f)) + ", remote ID " +
             std::to_string(remote) + ", proto " + std::to_string(proto_number(f)) + ", " +
             (ingress ? "ingress" : "egress") + ", action " + action + ", match " +
             match_type_name(f.policy_match_type()) + ", " + connection_summary(f) +
             (policy.empty() ? "" : ", policy " + policy);
    }
    case kTypeTraceSock: {
      // Upstream prints the event's destination, which reverse flows show
      // as their source (the answer travels back to the client).
      bool rev = f.sock_xlate_point() == flow::SOCK_XLATE_POINT_PRE_DIRECTION_REV ||
                 f.sock_xlate_point() == flow::SOCK_XLATE_POINT_POST_DIRECTION_REV;
      const auto& l4 = f.l4();
      uint32_t sport = l4.has_tcp() ? l4.tcp().source_port() : l4.udp().source_port();
      uint32_t dport = l4.has_tcp() ? l4.tcp().destination_port() : l4.udp().destination_port();
      const char* proto = l4.has_tcp() ? "tcp" : l4.has_udp() ? "udp" : "unknown";
      return "[" + xlate_point_name(f.sock_xlate_point()) + "] cgroup_id: " + std::to_string(f.cgroup_id()) +
             " sock_cookie: " + std::to_string(f.socket_cookie()) + ", dst [" +
             (rev ? f.ip().source() : f.ip().destination()) + "]:" + std::to_string(rev ? sport : dport) + " " +
             proto;
    }
    default:
      return "";
  }
}

bool related_to(const flow::Flow& f, uint32_t id) { return f.source().id() == id || f.destination().id() == id; }

}  // namespace cpp::hubble_cli
