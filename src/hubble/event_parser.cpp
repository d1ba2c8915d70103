#include "hubble/event_parser.h"

#include <netinet/in.h>
#include <time.h>

namespace cpp::hubble {
namespace {

int64_t clock_ns(clockid_t c) {
  timespec ts{};
  clock_gettime(c, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

TrafficDirection direction_of(uint8_t dir) {
  switch (dir) {
    case CPP_DIR_INGRESS: return TrafficDirection::Ingress;
    case CPP_DIR_EGRESS: return TrafficDirection::Egress;
    default: return TrafficDirection::Unknown;
  }
}

bool is_policy_reason(uint8_t reason) { return reason == CPP_DROP_POLICY || reason == CPP_DROP_POLICY_DENY; }

void fill_l4(Flow& f, const datapath::Event& ev) {
  f.protocol = ev.protocol;
  switch (ev.protocol) {
    case IPPROTO_TCP:
      f.tcp_flags = ev.tcp_flags;
      [[fallthrough]];
    case IPPROTO_UDP:
    case IPPROTO_SCTP:
      f.src_port = ev.sport;
      f.dst_port = ev.dport;
      break;
    case IPPROTO_ICMP:
    case IPPROTO_ICMPV6:
      // The datapath reports what policy matched: the type in dport (the
      // code is not carried).
      f.icmp_type = static_cast<uint8_t>(ev.dport);
      break;
    default:
      break;
  }
}

void add_policy(Flow& f, std::shared_ptr<const PolicyRef> p, bool denied) {
  bool ingress = f.traffic_direction == TrafficDirection::Ingress;
  if (f.traffic_direction == TrafficDirection::Unknown) return;
  auto& list = denied ? (ingress ? f.ingress_denied_by : f.egress_denied_by)
                      : (ingress ? f.ingress_allowed_by : f.egress_allowed_by);
  list.push_back(std::move(p));
}

}  // namespace

EventParser::EventParser(const Enricher& enricher, int64_t boot_offset_ns)
    : enricher_(enricher), boot_offset_ns_(boot_offset_ns) {}

int64_t EventParser::current_boot_offset_ns() { return clock_ns(CLOCK_REALTIME) - clock_ns(CLOCK_MONOTONIC); }

Flow EventParser::parse(const datapath::Event& ev) const {
  Flow f;
  f.time_ns = static_cast<int64_t>(ev.ts_ns) + boot_offset_ns_;
  f.node_name = enricher_.node_name();
  f.traffic_direction = direction_of(ev.direction);
  f.ip_version = ev.saddr.v6 ? 6 : 4;
  f.src_ip = ev.saddr;
  f.dst_ip = ev.daddr;
  f.length = ev.len;
  fill_l4(f, ev);

  bool reply = (ev.flags & CPP_EVENT_F_REPLY) != 0;
  // Whether the policy rule of the cookie denied (rather than allowed).
  bool rule_denied = false;
  bool with_policy = false;
  switch (ev.type) {
    case CPP_EVENT_DROP:
      f.verdict = Verdict::Dropped;
      f.drop_reason = ev.reason;
      f.event_type = kMonitorTypeDrop;
      f.event_sub_type = ev.reason;
      // Policy drops happen to packets opening a connection; other drops
      // may come before connection tracking, where the direction is unknown.
      if (reply)
        f.is_reply = true;
      else if (is_policy_reason(ev.reason))
        f.is_reply = false;
      rule_denied = true;
      with_policy = is_policy_reason(ev.reason);
      break;
    case CPP_EVENT_POLICY_VERDICT:
      f.event_type = kMonitorTypePolicyVerdict;
      f.is_reply = false;  // only new connections go through policy
      f.policy_match_type = ev.match_type;
      with_policy = true;
      switch (ev.verdict) {
        case CPP_VERDICT_ALLOWED:
          f.verdict = Verdict::Forwarded;
          break;
        case CPP_VERDICT_DENIED:
          f.verdict = Verdict::Dropped;
          f.drop_reason = ev.reason != 0 ? ev.reason : CPP_DROP_POLICY;
          rule_denied = true;
          break;
        case CPP_VERDICT_AUDIT:
          // Would have been denied; a deny rule's cookie names the denier.
          f.verdict = Verdict::Audit;
          rule_denied = ev.reason == CPP_DROP_POLICY_DENY;
          break;
        default:
          f.verdict = Verdict::Unknown;
          with_policy = false;
          break;
      }
      break;
    case CPP_EVENT_TRACE_SOCK:
      parse_sock(ev, f);
      return f;
    case CPP_EVENT_TRACE:
      f.verdict = Verdict::Forwarded;
      f.event_type = kMonitorTypeTrace;
      // Upstream's monitor numbers "to endpoint" 0 (TraceToLxc); the flow's
      // observation point uses Hubble's 101 for it.
      f.event_sub_type = ev.obs_point == CPP_OBS_TO_ENDPOINT ? 0 : ev.obs_point;
      f.trace_observation_point = ev.obs_point;
      f.is_reply = reply;
      break;
    default:
      break;
  }

  // The event's endpoint is the sender of egress and the receiver of
  // ingress traffic.
  bool egress = ev.direction == CPP_DIR_EGRESS;
  bool ingress = ev.direction == CPP_DIR_INGRESS;
  f.source = enricher_.endpoint(ev.saddr, egress ? ev.ep_id : 0, ev.src_identity);
  f.destination = enricher_.endpoint(ev.daddr, ingress ? ev.ep_id : 0, ev.dst_identity);

  if (with_policy && ev.cookie != 0)
    if (auto p = enricher_.policy(ev.cookie)) add_policy(f, std::move(p), rule_denied);

  if (ev.flags & CPP_EVENT_F_XLATED) f.destination_service = enricher_.service(ev.orig_daddr, ev.orig_dport, ev.protocol);

  f.ifindex = ev.ifindex;
  if (ev.ifindex != 0) f.ifname = enricher_.interface_name(ev.ifindex);
  return f;
}

void EventParser::parse_sock(const datapath::Event& ev, Flow& f) const {
  f.type = FlowType::Sock;
  f.event_type = kMonitorTypeTraceSock;
  f.event_sub_type = ev.obs_point;
  f.sock_xlate_point = ev.obs_point;
  f.socket_cookie = ev.sock_cookie;
  f.cgroup_id = ev.cgroup_id;
  f.traffic_direction = TrafficDirection::Unknown;
  f.length = 0;
  switch (ev.obs_point) {
    case CPP_XLATE_PRE_FWD:
    case CPP_XLATE_PRE_REV: f.verdict = Verdict::Traced; break;
    case CPP_XLATE_POST_FWD:
    case CPP_XLATE_POST_REV: f.verdict = Verdict::Translated; break;
    default: f.verdict = Verdict::Unknown; break;
  }

  auto client = enricher_.endpoint_by_netns(ev.netns_cookie, ev.daddr.v6);
  IpAddr client_ip;
  client_ip.v6 = ev.daddr.v6;
  if (client) client_ip = client->addr;
  auto client_ep = enricher_.endpoint(client_ip, client ? client->ep_id : 0, client ? client->identity : 0);
  auto peer_ep = enricher_.endpoint(ev.daddr, 0, 0);
  std::optional<ServiceRef> svc;
  if (ev.flags & CPP_EVENT_F_XLATED) svc = enricher_.service(ev.orig_daddr, ev.orig_dport, ev.protocol);

  bool rev = ev.obs_point == CPP_XLATE_PRE_REV || ev.obs_point == CPP_XLATE_POST_REV;
  f.src_ip = rev ? ev.daddr : client_ip;
  f.dst_ip = rev ? client_ip : ev.daddr;
  f.src_port = rev ? ev.dport : 0;
  f.dst_port = rev ? 0 : ev.dport;
  f.source = rev ? peer_ep : client_ep;
  f.destination = rev ? client_ep : peer_ep;
  if (!svc) return;
  if (rev)
    f.source_service = std::make_shared<const ServiceRef>(std::move(*svc));
  else
    f.destination_service = std::move(svc);
}

}  // namespace cpp::hubble
