#include "hubble_server/proto_convert.h"

#include <gtest/gtest.h>
#include <netinet/in.h>

#include <ciliumpp/abi.h>
#include <google/protobuf/timestamp.pb.h>

#include "test_flows.h"

namespace cpp::hubble {
namespace {

using testing::tcp_flow;

TEST(ProtoConvert, TcpFlowFieldsByUpstreamSemantics) {
  Flow f = tcp_flow(1'700'000'000'123'456'789LL);
  f.tcp_flags = 0x12;  // SYN|ACK
  f.ifindex = 7;
  f.ifname = "lxc123";
  const flow::Flow p = to_proto(f);

  EXPECT_EQ(p.time().seconds(), 1'700'000'000);
  EXPECT_EQ(p.time().nanos(), 123'456'789);
  EXPECT_EQ(p.verdict(), flow::FORWARDED);
  EXPECT_EQ(p.type(), flow::L3_L4);
  EXPECT_EQ(p.node_name(), "node-a");
  EXPECT_EQ(p.ip().source(), "10.0.0.1");
  EXPECT_EQ(p.ip().destination(), "10.0.0.2");
  EXPECT_EQ(p.ip().ipversion(), flow::IPv4);
  ASSERT_TRUE(p.l4().has_tcp());
  EXPECT_EQ(p.l4().tcp().source_port(), 41234u);
  EXPECT_EQ(p.l4().tcp().destination_port(), 8080u);
  EXPECT_TRUE(p.l4().tcp().flags().syn());
  EXPECT_TRUE(p.l4().tcp().flags().ack());
  EXPECT_FALSE(p.l4().tcp().flags().fin());
  EXPECT_FALSE(p.l4().tcp().flags().rst());
  EXPECT_EQ(p.summary(), "TCP Flags: SYN, ACK");
  EXPECT_EQ(p.source().id(), 11u);
  EXPECT_EQ(p.source().identity(), 256u);
  EXPECT_EQ(p.source().namespace_(), "default");
  EXPECT_EQ(p.source().pod_name(), "client");
  ASSERT_EQ(p.source().labels_size(), 2);
  EXPECT_EQ(p.source().labels(0), "k8s:app=client");
  EXPECT_EQ(p.destination().pod_name(), "server");
  EXPECT_EQ(p.destination().identity(), 258u);
  EXPECT_EQ(p.event_type().type(), 4);
  EXPECT_EQ(p.event_type().sub_type(), 101);
  EXPECT_EQ(p.trace_observation_point(), flow::TO_ENDPOINT);
  EXPECT_EQ(p.traffic_direction(), flow::INGRESS);
  ASSERT_TRUE(p.has_is_reply());
  EXPECT_FALSE(p.is_reply().value());
  EXPECT_EQ(p.interface().index(), 7u);
  EXPECT_EQ(p.interface().name(), "lxc123");
  EXPECT_EQ(p.drop_reason_desc(), flow::DROP_REASON_UNKNOWN);
  EXPECT_FALSE(p.has_destination_service());
}

TEST(ProtoConvert, PolicyDenyDropCarriesReasonAndPolicy) {
  Flow f = tcp_flow(5);
  f.verdict = Verdict::Dropped;
  f.event_type = kMonitorTypePolicyVerdict;
  f.event_sub_type = 0;
  f.trace_observation_point = 0;
  f.drop_reason = 133;
  f.policy_match_type = 2;
  auto pol = std::make_shared<PolicyRef>();
  pol->name = "deny-client";
  pol->namespace_ = "default";
  pol->kind = "CiliumNetworkPolicy";
  pol->revision = 9;
  pol->rule = "spec.ingressDeny[0]";
  pol->labels = {"k8s:io.cilium.k8s.policy.name=deny-client"};
  f.ingress_denied_by = {pol};
  f.egress_allowed_by = {pol};
  const flow::Flow p = to_proto(f);

  EXPECT_EQ(p.verdict(), flow::DROPPED);
  EXPECT_EQ(p.drop_reason(), 133u);
  EXPECT_EQ(p.drop_reason_desc(), flow::POLICY_DENIED);
  EXPECT_EQ(p.event_type().type(), 5);
  EXPECT_EQ(p.policy_match_type(), 2u);
  EXPECT_EQ(p.trace_observation_point(), flow::UNKNOWN_POINT);  // only traces have one
  ASSERT_EQ(p.ingress_denied_by_size(), 1);
  EXPECT_EQ(p.ingress_denied_by(0).name(), "deny-client");
  EXPECT_EQ(p.ingress_denied_by(0).namespace_(), "default");
  EXPECT_EQ(p.ingress_denied_by(0).kind(), "CiliumNetworkPolicy");
  EXPECT_EQ(p.ingress_denied_by(0).revision(), 9u);
  EXPECT_EQ(p.ingress_denied_by(0).rule(), "spec.ingressDeny[0]");
  ASSERT_EQ(p.ingress_denied_by(0).labels_size(), 1);
  EXPECT_EQ(p.egress_allowed_by_size(), 1);
  EXPECT_EQ(p.ingress_allowed_by_size(), 0);
  EXPECT_EQ(p.egress_denied_by_size(), 0);
}

TEST(ProtoConvert, TraceSockFlowIsTypeSockWithSocketFields) {
  Flow f = tcp_flow(1'700'000'000'000'000'000LL);
  f.type = FlowType::Sock;
  f.verdict = Verdict::Translated;
  f.event_type = kMonitorTypeTraceSock;
  f.event_sub_type = CPP_XLATE_POST_REV;
  f.sock_xlate_point = CPP_XLATE_POST_REV;
  f.socket_cookie = 0xc0ffee;
  f.cgroup_id = 4711;
  f.tcp_flags = 0;
  f.source_service = std::make_shared<const ServiceRef>(ServiceRef{"web", "default"});
  const flow::Flow p = to_proto(f);
  EXPECT_EQ(p.type(), flow::SOCK);
  EXPECT_EQ(p.verdict(), flow::TRANSLATED);
  EXPECT_EQ(p.event_type().type(), 7);
  EXPECT_EQ(p.event_type().sub_type(), 4);
  EXPECT_EQ(p.sock_xlate_point(), flow::SOCK_XLATE_POINT_POST_DIRECTION_REV);
  EXPECT_EQ(p.socket_cookie(), 0xc0ffeeu);
  EXPECT_EQ(p.cgroup_id(), 4711u);
  EXPECT_EQ(p.source_service().name(), "web");
  EXPECT_EQ(p.source_service().namespace_(), "default");
  EXPECT_FALSE(p.has_destination_service());
  EXPECT_EQ(p.summary(), "TCP");  // upstream's sock summary: the protocol only
  EXPECT_EQ(p.trace_observation_point(), flow::UNKNOWN_POINT);

  // Field numbers on the wire are upstream's: sock_xlate_point 31,
  // socket_cookie 32, cgroup_id 33.
  const auto* d = flow::Flow::descriptor();
  EXPECT_EQ(d->FindFieldByName("sock_xlate_point")->number(), 31);
  EXPECT_EQ(d->FindFieldByName("socket_cookie")->number(), 32);
  EXPECT_EQ(d->FindFieldByName("cgroup_id")->number(), 33);
  EXPECT_EQ(d->FindFieldByName("source_service")->number(), 20);
}

TEST(ProtoConvert, PacketFlowsLeaveSocketFieldsUnset) {
  const flow::Flow p = to_proto(tcp_flow(1));
  EXPECT_EQ(p.sock_xlate_point(), flow::SOCK_XLATE_POINT_UNKNOWN);
  EXPECT_EQ(p.socket_cookie(), 0u);
  EXPECT_FALSE(p.has_source_service());
}

TEST(ProtoConvert, UnknownReplyStaysUnset) {
  Flow f = tcp_flow(5);
  f.is_reply.reset();
  EXPECT_FALSE(to_proto(f).has_is_reply());
  f.is_reply = true;
  const flow::Flow p = to_proto(f);
  ASSERT_TRUE(p.has_is_reply());
  EXPECT_TRUE(p.is_reply().value());
  EXPECT_TRUE(p.reply());
}

TEST(ProtoConvert, UdpIcmpSctpLayer4) {
  Flow f = tcp_flow(5);
  f.protocol = IPPROTO_UDP;
  f.dst_port = 53;
  flow::Flow p = to_proto(f);
  ASSERT_TRUE(p.l4().has_udp());
  EXPECT_EQ(p.l4().udp().destination_port(), 53u);
  EXPECT_EQ(p.summary(), "UDP");

  f.protocol = IPPROTO_SCTP;
  p = to_proto(f);
  ASSERT_TRUE(p.l4().has_sctp());
  EXPECT_EQ(p.summary(), "SCTP");

  f.protocol = IPPROTO_ICMP;
  f.icmp_type = 8;
  f.icmp_code = 0;
  p = to_proto(f);
  ASSERT_TRUE(p.l4().has_icmpv4());
  EXPECT_EQ(p.l4().icmpv4().type(), 8u);
  EXPECT_EQ(p.summary(), "ICMPv4 EchoRequest");
}

TEST(ProtoConvert, Ipv6IcmpAndService) {
  Flow f = tcp_flow(5, "fd00::1", "fd00::2");
  f.ip_version = 6;
  f.protocol = IPPROTO_ICMPV6;
  f.icmp_type = 1;
  f.icmp_code = 4;
  f.destination_service = ServiceRef{"web", "prod"};
  const flow::Flow p = to_proto(f);
  EXPECT_EQ(p.ip().source(), "fd00::1");
  EXPECT_EQ(p.ip().ipversion(), flow::IPv6);
  ASSERT_TRUE(p.l4().has_icmpv6());
  EXPECT_EQ(p.l4().icmpv6().type(), 1u);
  EXPECT_EQ(p.l4().icmpv6().code(), 4u);
  EXPECT_EQ(p.summary(), "ICMPv6 DestinationUnreachable(PortUnreachable)");
  EXPECT_EQ(p.destination_service().name(), "web");
  EXPECT_EQ(p.destination_service().namespace_(), "prod");
}

TEST(ProtoConvert, MissingEndpointsAreEmptyNotAbsent) {
  Flow f = tcp_flow(5);
  f.source.reset();
  f.destination.reset();
  const flow::Flow p = to_proto(f);
  EXPECT_TRUE(p.has_source());
  EXPECT_TRUE(p.has_destination());
  EXPECT_EQ(p.source().identity(), 0u);
}

TEST(ProtoConvert, SurvivesTheWire) {
  const flow::Flow p = to_proto(tcp_flow(42));
  flow::Flow back;
  ASSERT_TRUE(back.ParseFromString(p.SerializeAsString()));
  EXPECT_EQ(back.source().pod_name(), "client");
  EXPECT_EQ(back.summary(), "TCP Flags: SYN");
}

TEST(ProtoConvert, TimestampBeforeEpochKeepsNanosPositive) {
  google::protobuf::Timestamp ts;
  to_timestamp(-1, &ts);
  EXPECT_EQ(ts.seconds(), -1);
  EXPECT_EQ(ts.nanos(), 999'999'999);
  EXPECT_EQ(from_timestamp(ts), -1);
}

}  // namespace
}  // namespace cpp::hubble
