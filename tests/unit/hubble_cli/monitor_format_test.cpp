#include "hubble_cli/monitor_format.h"

#include <gtest/gtest.h>

#include "test_flows.h"

using namespace cpp::hubble_cli;
using namespace cpp::hubble_cli::test;

TEST(MonitorFormat, Drop) {
  EXPECT_EQ(monitor_line(policy_drop()),
            "xx drop (Policy denied) flow 0x0 to endpoint 1234, ifindex 5, file bpf_lxc.c:0, , identity 256->258: "
            "10.0.0.1:41234 -> 10.0.0.2:8080 tcp SYN");
}

TEST(MonitorFormat, TraceToEndpoint) {
  EXPECT_EQ(monitor_line(trace_to_endpoint()),
            "-> endpoint 1234 flow 0x0 , identity 256->258 state new ifindex lxc123 orig-ip 10.0.0.1: "
            "10.0.0.1:41234 -> 10.0.0.2:8080 tcp SYN");
  auto f = trace_to_endpoint();
  f.set_trace_observation_point(flow::FROM_ENDPOINT);
  f.mutable_is_reply()->set_value(true);
  EXPECT_EQ(monitor_line(f).rfind("<- endpoint 1111 flow 0x0 , identity 256->258 state reply", 0), 0u);
}

TEST(MonitorFormat, PolicyVerdict) {
  EXPECT_EQ(monitor_line(allowed_verdict()),
            "Policy verdict log: flow 0x0 local EP ID 1234, remote ID 256, proto 6, ingress, action allow, match "
            "L3-L4, 10.0.0.1:41234 -> 10.0.0.2:8080 tcp SYN, policy back/backend-allow");
  auto f = allowed_verdict();
  f.set_verdict(flow::DROPPED);
  f.set_traffic_direction(flow::EGRESS);
  f.clear_ingress_allowed_by();
  EXPECT_EQ(monitor_line(f),
            "Policy verdict log: flow 0x0 local EP ID 1111, remote ID 258, proto 6, egress, action deny, match "
            "L3-L4, 10.0.0.1:41234 -> 10.0.0.2:8080 tcp SYN");
}

TEST(MonitorFormat, OtherProtocols) {
  auto f = tcp_flow();
  f.mutable_l4()->mutable_udp()->set_source_port(5353);
  f.mutable_l4()->mutable_udp()->set_destination_port(53);
  f.mutable_ip()->set_destination("fd00::2");
  EXPECT_EQ(connection_summary(f), "10.0.0.1:5353 -> [fd00::2]:53 udp");
  f.mutable_l4()->mutable_icmpv4()->set_type(8);
  EXPECT_EQ(connection_summary(f), "10.0.0.1 -> fd00::2 icmp 8");
}

// A post-xlate-rev trace-sock flow: the answer from the frontend
// 10.96.0.10:80 to the client; the monitor prints the event's destination.
flow::Flow sock_flow(flow::SocketTranslationPoint p, bool rev) {
  flow::Flow f;
  f.set_type(flow::SOCK);
  f.set_verdict(flow::TRANSLATED);
  f.mutable_event_type()->set_type(7);
  f.mutable_event_type()->set_sub_type(p);
  f.set_sock_xlate_point(p);
  f.set_socket_cookie(8192);
  f.set_cgroup_id(4711);
  f.mutable_ip()->set_source(rev ? "10.96.0.10" : "10.0.0.1");
  f.mutable_ip()->set_destination(rev ? "10.0.0.1" : "10.96.0.10");
  auto* udp = f.mutable_l4()->mutable_udp();
  (rev ? udp->set_source_port(80) : udp->set_destination_port(80));
  return f;
}

TEST(MonitorFormat, TraceSockPrintsTheEventsDestination) {
  EXPECT_EQ(monitor_line(sock_flow(flow::SOCK_XLATE_POINT_PRE_DIRECTION_FWD, false)),
            "[pre-xlate-fwd] cgroup_id: 4711 sock_cookie: 8192, dst [10.96.0.10]:80 udp");
  EXPECT_EQ(monitor_line(sock_flow(flow::SOCK_XLATE_POINT_POST_DIRECTION_REV, true)),
            "[post-xlate-rev] cgroup_id: 4711 sock_cookie: 8192, dst [10.96.0.10]:80 udp");
}

TEST(MonitorFormat, RelatedToAndUnknownTypes) {
  EXPECT_TRUE(related_to(tcp_flow(), 1234));
  EXPECT_TRUE(related_to(tcp_flow(), 1111));
  EXPECT_FALSE(related_to(tcp_flow(), 99));
  EXPECT_EQ(monitor_line(tcp_flow()), "");
}
