#include <gtest/gtest.h>
#include <netinet/in.h>

#include <chrono>

#include "hubble/event_parser.h"
#include "table_enricher.h"

namespace cpp::hubble {
namespace {

using test::ip;
using test::TableEnricher;

constexpr int64_t kBoot = 1'700'000'000'000'000'000;

std::shared_ptr<EndpointInfo> pod(uint32_t id, uint32_t identity, std::string ns, std::string name,
                                  std::vector<std::string> labels) {
  auto e = std::make_shared<EndpointInfo>();
  e->id = id;
  e->identity = identity;
  e->namespace_ = std::move(ns);
  e->pod_name = std::move(name);
  e->labels = std::move(labels);
  return e;
}

class EventParserTest : public ::testing::Test {
 protected:
  void SetUp() override {
    en.by_ip[ip("10.0.0.1")] = pod(11, 256, "default", "client-1", {"k8s:app=client"});
    en.by_ip[ip("10.0.0.2")] = pod(22, 258, "default", "server-1", {"k8s:app=server"});
    en.by_ip[ip("fd00::1")] = pod(11, 256, "default", "client-1", {"k8s:app=client"});
    en.by_ip[ip("fd00::2")] = pod(22, 258, "default", "server-1", {"k8s:app=server"});
    en.identity_labels[2] = {"reserved:world"};
    auto allow = std::make_shared<PolicyRef>();
    allow->name = "allow-client";
    allow->namespace_ = "default";
    allow->kind = "CiliumNetworkPolicy";
    allow->rule = "spec.ingress[0]";
    en.policies[7] = allow;
    auto deny = std::make_shared<PolicyRef>();
    deny->name = "deny-all";
    deny->kind = "CiliumClusterwideNetworkPolicy";
    en.policies[9] = deny;
    en.services[{ip("10.96.0.10"), 80, IPPROTO_TCP}] = ServiceRef{"web", "default"};
    en.ifnames[5] = "lxc1234";
  }

  // A TCP SYN from client (10.0.0.1:41234) to server (10.0.0.2:8080).
  datapath::Event tcp(uint8_t type, uint8_t dir) const {
    datapath::Event e;
    e.type = type;
    e.direction = dir;
    e.ep_id = dir == CPP_DIR_EGRESS ? 11 : 22;
    e.protocol = IPPROTO_TCP;
    e.src_identity = 256;
    e.dst_identity = 258;
    e.sport = 41234;
    e.dport = 8080;
    e.saddr = ip("10.0.0.1");
    e.daddr = ip("10.0.0.2");
    e.ifindex = 5;
    e.len = 74;
    e.ts_ns = 123'456'789;
    e.tcp_flags = 0x02;
    return e;
  }

  TableEnricher en;
  EventParser parser{en, kBoot};
};

TEST_F(EventParserTest, PolicyDeniedDropOnIngress) {
  auto ev = tcp(CPP_EVENT_DROP, CPP_DIR_INGRESS);
  ev.reason = CPP_DROP_POLICY;
  Flow f = parser.parse(ev);
  EXPECT_EQ(f.verdict, Verdict::Dropped);
  EXPECT_EQ(f.drop_reason, CPP_DROP_POLICY);
  EXPECT_EQ(f.event_type, kMonitorTypeDrop);
  EXPECT_EQ(f.event_sub_type, CPP_DROP_POLICY);
  EXPECT_EQ(f.traffic_direction, TrafficDirection::Ingress);
  ASSERT_TRUE(f.is_reply.has_value());
  EXPECT_FALSE(*f.is_reply);
  EXPECT_EQ(f.trace_observation_point, 0);
  EXPECT_EQ(f.time_ns, kBoot + 123'456'789);
  EXPECT_EQ(f.node_name, "node-1");
  EXPECT_EQ(f.ip_version, 4);
  EXPECT_EQ(f.src_ip, ip("10.0.0.1"));
  EXPECT_EQ(f.dst_ip, ip("10.0.0.2"));
  EXPECT_EQ(f.protocol, IPPROTO_TCP);
  EXPECT_EQ(f.src_port, 41234);
  EXPECT_EQ(f.dst_port, 8080);
  EXPECT_EQ(f.tcp_flags, 0x02);
  EXPECT_EQ(f.length, 74u);
  EXPECT_EQ(f.ifindex, 5u);
  EXPECT_EQ(f.ifname, "lxc1234");
  ASSERT_TRUE(f.source && f.destination);
  EXPECT_EQ(f.source->pod_name, "client-1");
  EXPECT_EQ(f.destination->pod_name, "server-1");
  EXPECT_EQ(f.destination->identity, 258u);
  EXPECT_TRUE(f.ingress_denied_by.empty());  // default deny: no rule to name
  EXPECT_FALSE(f.destination_service);
}

TEST_F(EventParserTest, IngressEventNamesTheDestinationEndpoint) {
  auto ev = tcp(CPP_EVENT_DROP, CPP_DIR_INGRESS);
  ev.reason = CPP_DROP_POLICY;
  parser.parse(ev);
  ASSERT_EQ(en.endpoint_calls.size(), 2u);
  EXPECT_EQ(en.endpoint_calls[0], std::make_pair(ip("10.0.0.1"), uint16_t{0}));
  EXPECT_EQ(en.endpoint_calls[1], std::make_pair(ip("10.0.0.2"), uint16_t{22}));
}

TEST_F(EventParserTest, EgressEventNamesTheSourceEndpoint) {
  auto ev = tcp(CPP_EVENT_TRACE, CPP_DIR_EGRESS);
  ev.obs_point = CPP_OBS_FROM_ENDPOINT;
  Flow f = parser.parse(ev);
  EXPECT_EQ(f.traffic_direction, TrafficDirection::Egress);
  ASSERT_EQ(en.endpoint_calls.size(), 2u);
  EXPECT_EQ(en.endpoint_calls[0], std::make_pair(ip("10.0.0.1"), uint16_t{11}));
  EXPECT_EQ(en.endpoint_calls[1], std::make_pair(ip("10.0.0.2"), uint16_t{0}));
}

TEST_F(EventParserTest, DenylistDropNamesTheDenyingPolicy) {
  auto ev = tcp(CPP_EVENT_DROP, CPP_DIR_EGRESS);
  ev.reason = CPP_DROP_POLICY_DENY;
  ev.cookie = 9;
  Flow f = parser.parse(ev);
  EXPECT_EQ(f.drop_reason, CPP_DROP_POLICY_DENY);
  ASSERT_EQ(f.egress_denied_by.size(), 1u);
  EXPECT_EQ(f.egress_denied_by[0]->name, "deny-all");
  EXPECT_TRUE(f.ingress_denied_by.empty());
  EXPECT_TRUE(f.egress_allowed_by.empty());
}

TEST_F(EventParserTest, NonPolicyDropWithoutConnectionStateHasUnknownReply) {
  auto ev = tcp(CPP_EVENT_DROP, CPP_DIR_EGRESS);
  ev.reason = CPP_DROP_CT_INVALID_HDR;
  ev.cookie = 9;  // not a policy drop: the cookie does not name a denier
  Flow f = parser.parse(ev);
  EXPECT_FALSE(f.is_reply.has_value());
  EXPECT_EQ(f.verdict, Verdict::Dropped);
  EXPECT_EQ(f.event_sub_type, CPP_DROP_CT_INVALID_HDR);
  EXPECT_TRUE(f.egress_denied_by.empty());
}

TEST_F(EventParserTest, DropOfAReplyPacketIsAReply) {
  auto ev = tcp(CPP_EVENT_DROP, CPP_DIR_INGRESS);
  ev.reason = CPP_DROP_INVALID;
  ev.flags = CPP_EVENT_F_REPLY;
  Flow f = parser.parse(ev);
  ASSERT_TRUE(f.is_reply.has_value());
  EXPECT_TRUE(*f.is_reply);
}

TEST_F(EventParserTest, PolicyVerdictAllowedFillsIngressAllowedBy) {
  auto ev = tcp(CPP_EVENT_POLICY_VERDICT, CPP_DIR_INGRESS);
  ev.verdict = CPP_VERDICT_ALLOWED;
  ev.cookie = 7;
  Flow f = parser.parse(ev);
  EXPECT_EQ(f.verdict, Verdict::Forwarded);
  EXPECT_EQ(f.event_type, kMonitorTypePolicyVerdict);
  EXPECT_EQ(f.drop_reason, 0);
  ASSERT_TRUE(f.is_reply.has_value());
  EXPECT_FALSE(*f.is_reply);
  ASSERT_EQ(f.ingress_allowed_by.size(), 1u);
  EXPECT_EQ(f.ingress_allowed_by[0]->name, "allow-client");
  EXPECT_EQ(f.ingress_allowed_by[0]->rule, "spec.ingress[0]");
  EXPECT_TRUE(f.egress_allowed_by.empty());
  EXPECT_TRUE(f.ingress_denied_by.empty());
}

TEST_F(EventParserTest, PolicyVerdictAllowedOnEgressFillsEgressAllowedBy) {
  auto ev = tcp(CPP_EVENT_POLICY_VERDICT, CPP_DIR_EGRESS);
  ev.verdict = CPP_VERDICT_ALLOWED;
  ev.cookie = 7;
  Flow f = parser.parse(ev);
  ASSERT_EQ(f.egress_allowed_by.size(), 1u);
  EXPECT_TRUE(f.ingress_allowed_by.empty());
}

TEST_F(EventParserTest, PolicyVerdictDeniedIsDroppedWithTheEventReason) {
  auto ev = tcp(CPP_EVENT_POLICY_VERDICT, CPP_DIR_INGRESS);
  ev.verdict = CPP_VERDICT_DENIED;
  ev.reason = CPP_DROP_POLICY_DENY;
  ev.cookie = 9;
  Flow f = parser.parse(ev);
  EXPECT_EQ(f.verdict, Verdict::Dropped);
  EXPECT_EQ(f.drop_reason, CPP_DROP_POLICY_DENY);
  ASSERT_EQ(f.ingress_denied_by.size(), 1u);
  EXPECT_EQ(f.ingress_denied_by[0]->name, "deny-all");
  EXPECT_TRUE(f.ingress_allowed_by.empty());
}

TEST_F(EventParserTest, PolicyVerdictDeniedWithoutReasonIsPolicyDenied) {
  auto ev = tcp(CPP_EVENT_POLICY_VERDICT, CPP_DIR_INGRESS);
  ev.verdict = CPP_VERDICT_DENIED;
  Flow f = parser.parse(ev);
  EXPECT_EQ(f.drop_reason, CPP_DROP_POLICY);
  EXPECT_TRUE(f.ingress_denied_by.empty());
}

TEST_F(EventParserTest, PolicyVerdictAudit) {
  auto ev = tcp(CPP_EVENT_POLICY_VERDICT, CPP_DIR_EGRESS);
  ev.verdict = CPP_VERDICT_AUDIT;
  ev.reason = CPP_DROP_POLICY_DENY;
  ev.cookie = 9;
  Flow f = parser.parse(ev);
  EXPECT_EQ(f.verdict, Verdict::Audit);
  EXPECT_EQ(f.drop_reason, 0);
  ASSERT_EQ(f.egress_denied_by.size(), 1u);  // the rule that would have denied
  EXPECT_TRUE(f.egress_allowed_by.empty());
}

TEST_F(EventParserTest, UnknownCookieNamesNoPolicy) {
  auto ev = tcp(CPP_EVENT_POLICY_VERDICT, CPP_DIR_INGRESS);
  ev.verdict = CPP_VERDICT_ALLOWED;
  ev.cookie = 12345;
  Flow f = parser.parse(ev);
  EXPECT_TRUE(f.ingress_allowed_by.empty());
}

TEST_F(EventParserTest, TraceIsForwardedAtItsObservationPoint) {
  auto ev = tcp(CPP_EVENT_TRACE, CPP_DIR_INGRESS);
  ev.obs_point = CPP_OBS_TO_ENDPOINT;
  ev.cookie = 7;  // traces do not name policies
  Flow f = parser.parse(ev);
  EXPECT_EQ(f.verdict, Verdict::Forwarded);
  EXPECT_EQ(f.event_type, kMonitorTypeTrace);
  EXPECT_EQ(f.event_sub_type, 0);  // upstream's TraceToLxc
  EXPECT_EQ(f.trace_observation_point, CPP_OBS_TO_ENDPOINT);
  ASSERT_TRUE(f.is_reply.has_value());
  EXPECT_FALSE(*f.is_reply);
  EXPECT_TRUE(f.ingress_allowed_by.empty());
}

TEST_F(EventParserTest, TraceOfAReply) {
  auto ev = tcp(CPP_EVENT_TRACE, CPP_DIR_EGRESS);
  ev.saddr = ip("10.0.0.2");
  ev.daddr = ip("10.0.0.1");
  ev.obs_point = CPP_OBS_TO_STACK;
  ev.flags = CPP_EVENT_F_REPLY;
  ev.tcp_flags = 0x12;  // SYN ACK
  Flow f = parser.parse(ev);
  ASSERT_TRUE(f.is_reply.has_value());
  EXPECT_TRUE(*f.is_reply);
  EXPECT_EQ(f.tcp_flags, 0x12);
  EXPECT_EQ(f.source->pod_name, "server-1");
}

TEST_F(EventParserTest, TranslatedPacketNamesTheService) {
  auto ev = tcp(CPP_EVENT_TRACE, CPP_DIR_EGRESS);
  ev.obs_point = CPP_OBS_FROM_ENDPOINT;
  ev.flags = CPP_EVENT_F_XLATED;
  ev.orig_daddr = ip("10.96.0.10");
  ev.orig_dport = 80;
  Flow f = parser.parse(ev);
  ASSERT_TRUE(f.destination_service.has_value());
  EXPECT_EQ(f.destination_service->name, "web");
  EXPECT_EQ(f.destination_service->namespace_, "default");
  EXPECT_EQ(f.dst_ip, ip("10.0.0.2"));  // the backend stays the destination
}

TEST_F(EventParserTest, TranslationFieldsWithoutTheFlagAreIgnored) {
  auto ev = tcp(CPP_EVENT_TRACE, CPP_DIR_EGRESS);
  ev.orig_daddr = ip("10.96.0.10");
  ev.orig_dport = 80;
  EXPECT_FALSE(parser.parse(ev).destination_service.has_value());
}

TEST_F(EventParserTest, TranslatedToAnUnknownFrontendNamesNoService) {
  auto ev = tcp(CPP_EVENT_TRACE, CPP_DIR_EGRESS);
  ev.flags = CPP_EVENT_F_XLATED;
  ev.orig_daddr = ip("10.96.0.10");
  ev.orig_dport = 81;
  EXPECT_FALSE(parser.parse(ev).destination_service.has_value());
}

TEST_F(EventParserTest, IcmpEchoCarriesTypeNotPorts) {
  auto ev = tcp(CPP_EVENT_POLICY_VERDICT, CPP_DIR_INGRESS);
  ev.verdict = CPP_VERDICT_ALLOWED;
  ev.protocol = IPPROTO_ICMP;
  ev.sport = 4242;  // echo identifier
  ev.dport = 8;     // echo request
  ev.tcp_flags = 0;
  Flow f = parser.parse(ev);
  EXPECT_EQ(f.protocol, IPPROTO_ICMP);
  EXPECT_EQ(f.icmp_type, 8);
  EXPECT_EQ(f.icmp_code, 0);
  EXPECT_EQ(f.src_port, 0);
  EXPECT_EQ(f.dst_port, 0);
}

TEST_F(EventParserTest, Icmpv6OverIpv6) {
  auto ev = tcp(CPP_EVENT_DROP, CPP_DIR_INGRESS);
  ev.reason = CPP_DROP_POLICY;
  ev.protocol = IPPROTO_ICMPV6;
  ev.saddr = ip("fd00::1");
  ev.daddr = ip("fd00::2");
  ev.sport = 7;
  ev.dport = 128;  // echo request
  Flow f = parser.parse(ev);
  EXPECT_EQ(f.ip_version, 6);
  EXPECT_EQ(f.icmp_type, 128);
  EXPECT_EQ(f.src_port, 0);
  EXPECT_EQ(f.src_ip, ip("fd00::1"));
  EXPECT_EQ(f.destination->pod_name, "server-1");
}

TEST_F(EventParserTest, UdpHasPortsButNoTcpFlags) {
  auto ev = tcp(CPP_EVENT_TRACE, CPP_DIR_EGRESS);
  ev.protocol = IPPROTO_UDP;
  ev.dport = 53;
  ev.tcp_flags = 0x02;  // never meaningful for UDP
  Flow f = parser.parse(ev);
  EXPECT_EQ(f.dst_port, 53);
  EXPECT_EQ(f.tcp_flags, 0);
}

TEST_F(EventParserTest, SctpHasPorts) {
  auto ev = tcp(CPP_EVENT_TRACE, CPP_DIR_EGRESS);
  ev.protocol = IPPROTO_SCTP;
  Flow f = parser.parse(ev);
  EXPECT_EQ(f.src_port, 41234);
  EXPECT_EQ(f.dst_port, 8080);
}

TEST_F(EventParserTest, UnknownAddressesGetTheirIdentityLabels) {
  auto ev = tcp(CPP_EVENT_DROP, CPP_DIR_INGRESS);
  ev.reason = CPP_DROP_POLICY;
  ev.saddr = ip("192.0.2.7");
  ev.src_identity = 2;
  Flow f = parser.parse(ev);
  ASSERT_TRUE(f.source);
  EXPECT_EQ(f.source->identity, 2u);
  EXPECT_EQ(f.source->labels, std::vector<std::string>{"reserved:world"});
  EXPECT_EQ(f.source->pod_name, "");
}

TEST_F(EventParserTest, NoInterfaceNameWithoutIfindex) {
  auto ev = tcp(CPP_EVENT_TRACE, CPP_DIR_EGRESS);
  ev.ifindex = 0;
  Flow f = parser.parse(ev);
  EXPECT_EQ(f.ifindex, 0u);
  EXPECT_EQ(f.ifname, "");
}

TEST_F(EventParserTest, UnknownEventTypeHasUnknownVerdict) {
  auto ev = tcp(77, CPP_DIR_EGRESS);
  Flow f = parser.parse(ev);
  EXPECT_EQ(f.verdict, Verdict::Unknown);
  EXPECT_EQ(f.event_type, 0);
  ASSERT_TRUE(f.source && f.destination);  // never null
}

TEST_F(EventParserTest, UnknownDirectionIsUnknownAndNamesNoPolicy) {
  auto ev = tcp(CPP_EVENT_POLICY_VERDICT, 9);
  ev.verdict = CPP_VERDICT_ALLOWED;
  ev.cookie = 7;
  Flow f = parser.parse(ev);
  EXPECT_EQ(f.traffic_direction, TrafficDirection::Unknown);
  EXPECT_TRUE(f.ingress_allowed_by.empty() && f.egress_allowed_by.empty());
  EXPECT_EQ(en.endpoint_calls[0].second, 0);
  EXPECT_EQ(en.endpoint_calls[1].second, 0);
}

TEST(EventParserClock, BootOffsetTurnsMonotonicIntoWallClock) {
  timespec mono{};
  clock_gettime(CLOCK_MONOTONIC, &mono);
  int64_t off = EventParser::current_boot_offset_ns();
  int64_t wall = std::chrono::duration_cast<std::chrono::nanoseconds>(
                     std::chrono::system_clock::now().time_since_epoch())
                     .count();
  int64_t converted = mono.tv_sec * 1'000'000'000LL + mono.tv_nsec + off;
  EXPECT_LT(std::llabs(converted - wall), 1'000'000'000LL);  // same second, give or take scheduling
}

}  // namespace
}  // namespace cpp::hubble
