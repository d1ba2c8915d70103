// Trace-sock events (socket-LB translations) into SOCK flows, and the
// policy match type of policy verdicts.
#include <gtest/gtest.h>
#include <netinet/in.h>

#include "flow/flow.pb.h"
#include "hubble/event_parser.h"
#include "hubble/flow_filter.h"
#include "table_enricher.h"

namespace cpp::hubble {
namespace {

using test::ip;
using test::TableEnricher;

constexpr uint64_t kClientNetns = 0x4001;

class TraceSockParserTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto client = std::make_shared<EndpointInfo>();
    client->id = 11;
    client->identity = 256;
    client->namespace_ = "default";
    client->pod_name = "client-1";
    en.by_ip[ip("10.0.0.1")] = client;
    auto server = std::make_shared<EndpointInfo>();
    server->id = 22;
    server->identity = 258;
    server->namespace_ = "default";
    server->pod_name = "server-1";
    en.by_ip[ip("10.0.0.2")] = server;
    en.netns[{kClientNetns, false}] = NetnsEndpoint{11, 256, ip("10.0.0.1")};
    en.netns[{kClientNetns, true}] = NetnsEndpoint{11, 256, ip("fd00::1")};
    en.services[{ip("10.96.0.10"), 80, IPPROTO_TCP}] = ServiceRef{"web", "default"};
    en.services[{ip("fd00:96::10"), 80, IPPROTO_TCP}] = ServiceRef{"web", "default"};
  }

  // What bpf_sock_lb reports at `point` for a TCP socket of the client
  // pod talking to web (10.96.0.10:80), served by 10.0.0.2:8080.
  static datapath::Event sock(uint8_t point, bool ipv6 = false) {
    datapath::Event e;
    e.type = CPP_EVENT_TRACE_SOCK;
    e.obs_point = point;
    e.protocol = IPPROTO_TCP;
    bool frontend = point == CPP_XLATE_PRE_FWD || point == CPP_XLATE_POST_REV;
    e.daddr = ipv6 ? (frontend ? ip("fd00:96::10") : ip("fd00::2")) : (frontend ? ip("10.96.0.10") : ip("10.0.0.2"));
    e.saddr.v6 = ipv6;
    e.dport = frontend ? 80 : 8080;
    e.flags = CPP_EVENT_F_XLATED;
    e.orig_daddr = ipv6 ? ip("fd00:96::10") : ip("10.96.0.10");
    e.orig_dport = 80;
    e.ts_ns = 5;
    e.sock_cookie = 0xc0ffee;
    e.cgroup_id = 4711;
    e.netns_cookie = kClientNetns;
    return e;
  }

  TableEnricher en;
  EventParser parser{en, 0};
};

TEST_F(TraceSockParserTest, PreForwardIsTracedToTheFrontendOfTheService) {
  Flow f = parser.parse(sock(CPP_XLATE_PRE_FWD));
  EXPECT_EQ(f.type, FlowType::Sock);
  EXPECT_EQ(f.verdict, Verdict::Traced);
  EXPECT_EQ(f.event_type, kMonitorTypeTraceSock);
  EXPECT_EQ(f.event_sub_type, CPP_XLATE_PRE_FWD);
  EXPECT_EQ(f.sock_xlate_point, CPP_XLATE_PRE_FWD);
  EXPECT_EQ(f.socket_cookie, 0xc0ffeeu);
  EXPECT_EQ(f.cgroup_id, 4711u);
  EXPECT_EQ(f.ip_version, 4);
  EXPECT_EQ(f.src_ip, ip("10.0.0.1"));
  EXPECT_EQ(f.dst_ip, ip("10.96.0.10"));
  EXPECT_EQ(f.protocol, IPPROTO_TCP);
  EXPECT_EQ(f.src_port, 0);
  EXPECT_EQ(f.dst_port, 80);
  ASSERT_TRUE(f.source);
  EXPECT_EQ(f.source->pod_name, "client-1");
  ASSERT_TRUE(f.destination_service);
  EXPECT_EQ(f.destination_service->name, "web");
  EXPECT_EQ(f.destination_service->namespace_, "default");
  EXPECT_FALSE(f.source_service);
  EXPECT_EQ(f.traffic_direction, TrafficDirection::Unknown);
}

TEST_F(TraceSockParserTest, PostForwardIsTranslatedToTheBackend) {
  Flow f = parser.parse(sock(CPP_XLATE_POST_FWD));
  EXPECT_EQ(f.verdict, Verdict::Translated);
  EXPECT_EQ(f.dst_ip, ip("10.0.0.2"));
  EXPECT_EQ(f.dst_port, 8080);
  ASSERT_TRUE(f.destination);
  EXPECT_EQ(f.destination->pod_name, "server-1");
  ASSERT_TRUE(f.destination_service);
  EXPECT_EQ(f.destination_service->name, "web");
}

TEST_F(TraceSockParserTest, ReversePointsRunFromTheServiceToTheClient) {
  Flow pre = parser.parse(sock(CPP_XLATE_PRE_REV));
  EXPECT_EQ(pre.verdict, Verdict::Traced);
  EXPECT_EQ(pre.src_ip, ip("10.0.0.2"));
  EXPECT_EQ(pre.src_port, 8080);
  EXPECT_EQ(pre.dst_ip, ip("10.0.0.1"));
  EXPECT_EQ(pre.dst_port, 0);
  EXPECT_EQ(pre.destination->pod_name, "client-1");
  Flow post = parser.parse(sock(CPP_XLATE_POST_REV));
  EXPECT_EQ(post.verdict, Verdict::Translated);
  EXPECT_EQ(post.src_ip, ip("10.96.0.10"));
  EXPECT_EQ(post.src_port, 80);
  ASSERT_TRUE(post.source_service);
  EXPECT_EQ(post.source_service->name, "web");
  EXPECT_FALSE(post.destination_service);
}

TEST_F(TraceSockParserTest, Ipv6SocketUsesTheClientsIpv6Address) {
  Flow f = parser.parse(sock(CPP_XLATE_PRE_FWD, true));
  EXPECT_EQ(f.ip_version, 6);
  EXPECT_EQ(f.src_ip, ip("fd00::1"));
  EXPECT_EQ(f.dst_ip, ip("fd00:96::10"));
  ASSERT_TRUE(f.destination_service);
}

TEST_F(TraceSockParserTest, UnknownNamespaceLeavesTheSourceUnnamed) {
  auto ev = sock(CPP_XLATE_PRE_FWD);
  ev.netns_cookie = 99;
  Flow f = parser.parse(ev);
  ASSERT_TRUE(f.source);
  EXPECT_TRUE(f.source->pod_name.empty());
  EXPECT_EQ(f.source->id, 0u);
  ASSERT_TRUE(f.destination_service);  // the service is still named
}

TEST_F(TraceSockParserTest, TypeFilterSelectsTraceSockFlows) {
  google::protobuf::RepeatedPtrField<flow::FlowFilter> white, black;
  white.Add()->add_event_type()->set_type(kMonitorTypeTraceSock);
  auto set = FlowFilterSet::compile(white, black);
  EXPECT_TRUE(set.matches(parser.parse(sock(CPP_XLATE_POST_FWD))));
  datapath::Event trace;
  trace.type = CPP_EVENT_TRACE;
  trace.obs_point = CPP_OBS_TO_STACK;
  trace.direction = CPP_DIR_EGRESS;
  EXPECT_FALSE(set.matches(parser.parse(trace)));

  // With the sub-type: only that translation point.
  google::protobuf::RepeatedPtrField<flow::FlowFilter> post;
  auto* t = post.Add()->add_event_type();
  t->set_type(kMonitorTypeTraceSock);
  t->set_match_sub_type(true);
  t->set_sub_type(CPP_XLATE_POST_FWD);
  auto post_only = FlowFilterSet::compile(post, black);
  EXPECT_TRUE(post_only.matches(parser.parse(sock(CPP_XLATE_POST_FWD))));
  EXPECT_FALSE(post_only.matches(parser.parse(sock(CPP_XLATE_PRE_FWD))));
}

TEST_F(TraceSockParserTest, ServiceFiltersSeeBothSidesOfTheTranslation) {
  google::protobuf::RepeatedPtrField<flow::FlowFilter> from_web, to_web, black;
  from_web.Add()->add_source_service("default/web");
  to_web.Add()->add_destination_service("default/web");
  auto from = FlowFilterSet::compile(from_web, black);
  auto to = FlowFilterSet::compile(to_web, black);
  EXPECT_TRUE(from.matches(parser.parse(sock(CPP_XLATE_POST_REV))));
  EXPECT_FALSE(from.matches(parser.parse(sock(CPP_XLATE_PRE_FWD))));
  EXPECT_TRUE(to.matches(parser.parse(sock(CPP_XLATE_PRE_FWD))));
  EXPECT_FALSE(to.matches(parser.parse(sock(CPP_XLATE_POST_REV))));
}

TEST_F(TraceSockParserTest, PolicyVerdictCarriesTheMatchType) {
  for (uint8_t m : {CPP_MATCH_NONE, CPP_MATCH_L3_ONLY, CPP_MATCH_L3_L4, CPP_MATCH_L4_ONLY, CPP_MATCH_ALL,
                    CPP_MATCH_L3_PROTO, CPP_MATCH_PROTO_ONLY}) {
    datapath::Event ev;
    ev.type = CPP_EVENT_POLICY_VERDICT;
    ev.verdict = CPP_VERDICT_ALLOWED;
    ev.direction = CPP_DIR_INGRESS;
    ev.match_type = m;
    Flow f = parser.parse(ev);
    EXPECT_EQ(f.policy_match_type, m);
    EXPECT_EQ(f.event_type, 5);  // upstream's MessageTypePolicyVerdict
  }
}

TEST(TraceSockDecode, RawRecordKeepsItsTailAndMatchTypeComesFromThePadByte) {
  cpp_event_sock raw{};
  raw.ev.type = CPP_EVENT_TRACE_SOCK;
  raw.ev.family = CPP_FAMILY_IPV4;
  raw.ev.obs_point = CPP_XLATE_POST_FWD;
  raw.ev.dport = htons(8080);
  raw.ev.flags = CPP_EVENT_F_XLATED;
  raw.ev.orig_dport = htons(80);
  raw.sock_cookie = 1;
  raw.cgroup_id = 2;
  raw.netns_cookie = 3;
  auto e = datapath::Event::decode(raw);
  EXPECT_EQ(e.dport, 8080);
  EXPECT_EQ(e.orig_dport, 80);
  EXPECT_EQ(e.sock_cookie, 1u);
  EXPECT_EQ(e.cgroup_id, 2u);
  EXPECT_EQ(e.netns_cookie, 3u);

  cpp_event pv{};
  pv.type = CPP_EVENT_POLICY_VERDICT;
  pv.pad = CPP_MATCH_L3_L4;
  EXPECT_EQ(datapath::Event::decode(pv).match_type, CPP_MATCH_L3_L4);
  pv.type = CPP_EVENT_TRACE;  // the byte means nothing elsewhere
  EXPECT_EQ(datapath::Event::decode(pv).match_type, 0);
}

}  // namespace
}  // namespace cpp::hubble
