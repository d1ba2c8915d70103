#pragma once
// Canned flows the printer tests format: a policy-allowed SYN from
// front/fe to back/be, and the same connection dropped by policy.
#include <google/protobuf/util/time_util.h>

#include "flow/flow.pb.h"

namespace cpp::hubble_cli::test {

inline flow::Flow tcp_flow() {
  flow::Flow f;
  // 2026-11-26T22:01:02.123Z
  *f.mutable_time() = google::protobuf::util::TimeUtil::NanosecondsToTimestamp(1795730462123000000LL);
  f.set_node_name("node-a");
  f.mutable_ip()->set_source("10.0.0.1");
  f.mutable_ip()->set_destination("10.0.0.2");
  f.mutable_ip()->set_ipversion(flow::IPv4);
  auto* tcp = f.mutable_l4()->mutable_tcp();
  tcp->set_source_port(41234);
  tcp->set_destination_port(8080);
  tcp->mutable_flags()->set_syn(true);
  auto* s = f.mutable_source();
  s->set_id(1111);
  s->set_identity(256);
  s->set_namespace_("front");
  s->set_pod_name("fe");
  auto* d = f.mutable_destination();
  d->set_id(1234);
  d->set_identity(258);
  d->set_namespace_("back");
  d->set_pod_name("be");
  f.mutable_is_reply()->set_value(false);
  f.set_summary("TCP Flags: SYN");
  f.mutable_interface()->set_index(5);
  f.mutable_interface()->set_name("lxc123");
  return f;
}

inline flow::Flow allowed_verdict() {
  flow::Flow f = tcp_flow();
  f.set_verdict(flow::FORWARDED);
  f.mutable_event_type()->set_type(5);
  f.set_traffic_direction(flow::INGRESS);
  f.set_policy_match_type(2);
  auto* p = f.add_ingress_allowed_by();
  p->set_name("backend-allow");
  p->set_namespace_("back");
  return f;
}

inline flow::Flow policy_drop() {
  flow::Flow f = tcp_flow();
  f.set_verdict(flow::DROPPED);
  f.mutable_event_type()->set_type(1);
  f.mutable_event_type()->set_sub_type(133);
  f.set_drop_reason(133);
  f.set_drop_reason_desc(flow::POLICY_DENIED);
  f.set_traffic_direction(flow::INGRESS);
  auto* p = f.add_ingress_denied_by();
  p->set_name("deny-front");
  p->set_namespace_("back");
  return f;
}

inline flow::Flow trace_to_endpoint() {
  flow::Flow f = tcp_flow();
  f.set_verdict(flow::FORWARDED);
  f.mutable_event_type()->set_type(4);
  f.set_trace_observation_point(flow::TO_ENDPOINT);
  f.set_traffic_direction(flow::INGRESS);
  return f;
}

}  // namespace cpp::hubble_cli::test
