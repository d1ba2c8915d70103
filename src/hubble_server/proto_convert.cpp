#include "hubble_server/proto_convert.h"

#include <netinet/in.h>

#include <google/protobuf/timestamp.pb.h>

#include "hubble_server/flow_summary.h"

// The deprecated fields (drop_reason, reply, Summary) are still read by
// older hubble CLIs; upstream fills them, so do we.
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

namespace cpp::hubble {

namespace {

void fill_endpoint(const EndpointInfo& e, flow::Endpoint* out) {
  out->set_id(e.id);
  out->set_identity(e.identity);
  out->set_namespace_(e.namespace_);
  out->set_pod_name(e.pod_name);
  for (const auto& l : e.labels) out->add_labels(l);
}

void fill_policies(const std::vector<std::shared_ptr<const PolicyRef>>& refs,
                   google::protobuf::RepeatedPtrField<flow::Policy>* out) {
  for (const auto& r : refs) {
    if (!r) continue;
    flow::Policy* p = out->Add();
    p->set_name(r->name);
    p->set_namespace_(r->namespace_);
    p->set_kind(r->kind);
    p->set_revision(r->revision);
    p->set_rule(r->rule);
    for (const auto& l : r->labels) p->add_labels(l);
  }
}

void fill_tcp_flags(uint8_t bits, flow::TCPFlags* out) {
  out->set_fin(bits & 0x01);
  out->set_syn(bits & 0x02);
  out->set_rst(bits & 0x04);
  out->set_psh(bits & 0x08);
  out->set_ack(bits & 0x10);
  out->set_urg(bits & 0x20);
  out->set_ece(bits & 0x40);
  out->set_cwr(bits & 0x80);
}

void fill_l4(const Flow& f, flow::Layer4* out) {
  switch (f.protocol) {
    case IPPROTO_TCP: {
      flow::TCP* t = out->mutable_tcp();
      t->set_source_port(f.src_port);
      t->set_destination_port(f.dst_port);
      fill_tcp_flags(f.tcp_flags, t->mutable_flags());
      break;
    }
    case IPPROTO_UDP:
      out->mutable_udp()->set_source_port(f.src_port);
      out->mutable_udp()->set_destination_port(f.dst_port);
      break;
    case IPPROTO_SCTP:
      out->mutable_sctp()->set_source_port(f.src_port);
      out->mutable_sctp()->set_destination_port(f.dst_port);
      break;
    case IPPROTO_ICMP:
      out->mutable_icmpv4()->set_type(f.icmp_type);
      out->mutable_icmpv4()->set_code(f.icmp_code);
      break;
    case IPPROTO_ICMPV6:
      out->mutable_icmpv6()->set_type(f.icmp_type);
      out->mutable_icmpv6()->set_code(f.icmp_code);
      break;
  }
}

}  // namespace

void to_timestamp(int64_t unix_ns, google::protobuf::Timestamp* out) {
  int64_t secs = unix_ns / 1'000'000'000;
  int64_t nanos = unix_ns % 1'000'000'000;
  if (nanos < 0) {  // Timestamp wants nanos in [0, 1e9)
    nanos += 1'000'000'000;
    --secs;
  }
  out->set_seconds(secs);
  out->set_nanos(static_cast<int32_t>(nanos));
}

int64_t from_timestamp(const google::protobuf::Timestamp& ts) {
  return ts.seconds() * 1'000'000'000 + ts.nanos();
}

flow::Flow to_proto(const Flow& f) {
  flow::Flow out;
  to_timestamp(f.time_ns, out.mutable_time());
  out.set_verdict(static_cast<flow::Verdict>(f.verdict));
  out.set_drop_reason(f.drop_reason);
  out.set_drop_reason_desc(static_cast<flow::DropReason>(f.drop_reason));

  if (f.ip_version == 4 || f.ip_version == 6) {
    flow::IP* ip = out.mutable_ip();
    ip->set_source(f.src_ip.str());
    ip->set_destination(f.dst_ip.str());
    ip->set_ipversion(f.ip_version == 4 ? flow::IPv4 : flow::IPv6);
  }
  if (f.protocol == IPPROTO_TCP || f.protocol == IPPROTO_UDP || f.protocol == IPPROTO_SCTP ||
      f.protocol == IPPROTO_ICMP || f.protocol == IPPROTO_ICMPV6)
    fill_l4(f, out.mutable_l4());

  // Upstream always sends both endpoints, empty when nothing is known.
  if (f.source) fill_endpoint(*f.source, out.mutable_source());
  else out.mutable_source();
  if (f.destination) fill_endpoint(*f.destination, out.mutable_destination());
  else out.mutable_destination();

  out.set_type(static_cast<flow::FlowType>(f.type));
  out.set_node_name(f.node_name);
  out.mutable_event_type()->set_type(f.event_type);
  out.mutable_event_type()->set_sub_type(f.event_sub_type);
  if (f.destination_service) {
    out.mutable_destination_service()->set_name(f.destination_service->name);
    out.mutable_destination_service()->set_namespace_(f.destination_service->namespace_);
  }
  if (f.source_service) {
    out.mutable_source_service()->set_name(f.source_service->name);
    out.mutable_source_service()->set_namespace_(f.source_service->namespace_);
  }
  if (f.type == FlowType::Sock) {
    out.set_sock_xlate_point(static_cast<flow::SocketTranslationPoint>(f.sock_xlate_point));
    out.set_socket_cookie(f.socket_cookie);
    out.set_cgroup_id(f.cgroup_id);
  }
  out.set_traffic_direction(static_cast<flow::TrafficDirection>(f.traffic_direction));
  out.set_policy_match_type(f.policy_match_type);
  if (f.event_type == kMonitorTypeTrace)
    out.set_trace_observation_point(static_cast<flow::TraceObservationPoint>(f.trace_observation_point));
  if (f.is_reply) out.mutable_is_reply()->set_value(*f.is_reply);
  out.set_reply(f.is_reply.value_or(false));
  if (f.ifindex != 0) {
    out.mutable_interface()->set_index(f.ifindex);
    out.mutable_interface()->set_name(f.ifname);
  }
  out.set_summary(flow_summary(f));
  fill_policies(f.egress_allowed_by, out.mutable_egress_allowed_by());
  fill_policies(f.ingress_allowed_by, out.mutable_ingress_allowed_by());
  fill_policies(f.egress_denied_by, out.mutable_egress_denied_by());
  fill_policies(f.ingress_denied_by, out.mutable_ingress_denied_by());
  return out;
}

}  // namespace cpp::hubble
