// Trace events, monitor aggregation, forward/drop metrics and the lost
// counter through BPF_PROG_TEST_RUN: pod A's and pod B's bpf_lxc and the
// node's bpf_host loaded as the agent loads them (datapath::load_*), with
// MONITOR_AGGREGATION set per test. IPv4 and IPv6 (the parameter).
#include <bpf/bpf.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "datapath/metrics_map.h"
#include "policy_fixture.h"

namespace cpp::bpftest {
namespace {

using datapath::Event;

class EventsTest : public PolicyFixture, public ::testing::WithParamInterface<bool> {
 protected:
  bool v6() const { return GetParam(); }
  IpAddr a() const { return v6() ? t_.a6 : t_.a4; }
  IpAddr b() const { return v6() ? t_.b6 : t_.b4; }
  IpAddr world() const { return v6() ? t_.world6 : t_.world4; }

  // Reloads all three programs with monitor-aggregation `level`.
  void aggregation(uint8_t level) {
    auto node = t_.node();
    node.monitor_aggregation = level;
    lxc_a_.reset();
    lxc_b_.reset();
    host_.reset();
    lxc_a_.emplace(datapath::load_lxc_object(pin_.path(), node, t_.pod_a(), t_.a_ifindex));
    lxc_b_.emplace(datapath::load_lxc_object(pin_.path(), node, t_.pod_b(), t_.b_ifindex));
    host_.emplace(datapath::load_host_object(pin_.path(), node));
  }

  Bytes a_to_b(uint16_t sp, uint16_t dp, uint8_t flags) {
    return from_a(a(), b(), kTcp, tcp(a(), b(), sp, dp, flags));
  }
  Bytes b_to_a(uint16_t sp, uint16_t dp, uint8_t flags) {
    return from_b(b(), a(), kTcp, tcp(b(), a(), sp, dp, flags));
  }
  std::vector<Event> traces() { return of_type(events(), CPP_EVENT_TRACE); }

  uint64_t metric(uint8_t reason, uint8_t dir) {
    for (const auto& m : datapath::MetricsMap(pin_.path()).dump())
      if (m.reason == reason && m.dir == dir) return m.packets;
    return 0;
  }
};

INSTANTIATE_TEST_SUITE_P(Family, EventsTest, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "IPv6" : "IPv4"; });

TEST_P(EventsTest, SameNodeDeliveryIsTracedAsTheReceiversToEndpoint) {
  ASSERT_EQ(run_a(a_to_b(40000, 80, kTcpSyn)).verdict, kTcActRedirect);
  auto tr = traces();
  ASSERT_EQ(tr.size(), 1u);
  const Event& e = tr[0];
  EXPECT_EQ(e.obs_point, CPP_OBS_TO_ENDPOINT);
  EXPECT_EQ(e.ep_id, kEpB);
  EXPECT_EQ(e.direction, CPP_DIR_INGRESS);
  EXPECT_EQ(e.src_identity, kIdA);
  EXPECT_EQ(e.dst_identity, kIdB);
  EXPECT_EQ(e.ifindex, static_cast<uint32_t>(t_.b_ifindex));
  EXPECT_EQ(e.tcp_flags, kTcpSyn);
  EXPECT_FALSE(e.reply());
  EXPECT_FALSE(e.xlated());
  EXPECT_EQ(e.saddr, a());
  EXPECT_EQ(e.daddr, b());
  EXPECT_EQ(e.sport, 40000);
  EXPECT_EQ(e.dport, 80);
}

TEST_P(EventsTest, MediumTracesConnectionEventsOnly) {
  // Medium is the default (what t_.node() leaves it at).
  ASSERT_EQ(run_a(a_to_b(40000, 80, kTcpSyn)).verdict, kTcActRedirect);
  ASSERT_EQ(run_b(b_to_a(80, 40000, kTcpSyn | kTcpAck)).verdict, kTcActRedirect);
  ASSERT_EQ(run_a(a_to_b(40000, 80, kTcpAck)).verdict, kTcActRedirect);
  ASSERT_EQ(run_a(a_to_b(40000, 80, kTcpAck)).verdict, kTcActRedirect);
  ASSERT_EQ(run_b(b_to_a(80, 40000, kTcpAck)).verdict, kTcActRedirect);
  ASSERT_EQ(run_a(a_to_b(40000, 80, kTcpFin | kTcpAck)).verdict, kTcActRedirect);
  ASSERT_EQ(run_a(a_to_b(40000, 80, kTcpFin | kTcpAck)).verdict, kTcActRedirect);  // retransmit
  ASSERT_EQ(run_b(b_to_a(80, 40000, kTcpFin | kTcpAck)).verdict, kTcActRedirect);
  auto tr = traces();
  // SYN, SYN-ACK (first SYN of the reply side), A's FIN, B's FIN.
  ASSERT_EQ(tr.size(), 4u);
  EXPECT_EQ(tr[0].tcp_flags, kTcpSyn);
  EXPECT_FALSE(tr[0].reply());
  EXPECT_EQ(tr[1].tcp_flags, kTcpSyn | kTcpAck);
  EXPECT_TRUE(tr[1].reply()) << "B's answer is the reply direction";
  EXPECT_EQ(tr[1].ep_id, kEpA);
  EXPECT_EQ(tr[1].src_identity, kIdB);
  EXPECT_EQ(tr[2].tcp_flags, kTcpFin | kTcpAck);
  EXPECT_FALSE(tr[2].reply());
  EXPECT_EQ(tr[3].tcp_flags, kTcpFin | kTcpAck);
  EXPECT_TRUE(tr[3].reply());
  // UDP: the first datagram opens the connection, the second is established.
  auto udp_a = from_a(a(), b(), kUdp, udp(a(), b(), 41000, 53));
  ASSERT_EQ(run_a(udp_a).verdict, kTcActRedirect);
  ASSERT_EQ(run_a(udp_a).verdict, kTcActRedirect);
  EXPECT_EQ(traces().size(), 1u);
}

TEST_P(EventsTest, NoneTracesEveryForwardedPacket) {
  aggregation(CPP_MONITOR_AGG_NONE);
  ASSERT_EQ(run_a(a_to_b(40000, 80, kTcpSyn)).verdict, kTcActRedirect);
  ASSERT_EQ(run_b(b_to_a(80, 40000, kTcpSyn | kTcpAck)).verdict, kTcActRedirect);
  ASSERT_EQ(run_a(a_to_b(40000, 80, kTcpAck)).verdict, kTcActRedirect);
  ASSERT_EQ(run_a(a_to_b(40000, 80, kTcpAck)).verdict, kTcActRedirect);
  auto tr = traces();
  ASSERT_EQ(tr.size(), 4u);
  EXPECT_EQ(tr[3].tcp_flags, kTcpAck);
  EXPECT_FALSE(tr[3].reply());
  EXPECT_TRUE(tr[1].reply());
}

TEST_P(EventsTest, LowTracesEverySendPoint) {
  aggregation(CPP_MONITOR_AGG_LOW);
  ASSERT_EQ(run_a(a_to_b(40000, 80, kTcpSyn)).verdict, kTcActRedirect);
  ASSERT_EQ(run_a(a_to_b(40000, 80, kTcpAck)).verdict, kTcActRedirect);
  EXPECT_EQ(traces().size(), 2u);
}

TEST_P(EventsTest, StackAndHostPathsHaveTheirObservationPoints) {
  // A -> world leaves through the stack (no overlay): A's egress.
  ASSERT_EQ(run_a(from_a(a(), world(), kTcp, tcp(a(), world(), 42000, 443, kTcpSyn))).verdict,
            kTcActOk);
  auto tr = traces();
  ASSERT_EQ(tr.size(), 1u);
  EXPECT_EQ(tr[0].obs_point, CPP_OBS_TO_STACK);
  EXPECT_EQ(tr[0].ep_id, kEpA);
  EXPECT_EQ(tr[0].direction, CPP_DIR_EGRESS);
  EXPECT_EQ(tr[0].src_identity, kIdA);
  EXPECT_EQ(tr[0].dst_identity, uint32_t{CPP_ID_WORLD});
  EXPECT_EQ(tr[0].ifindex, static_cast<uint32_t>(t_.a_ifindex));

  // The world's answer comes back through bpf_host: a reply, to A.
  auto synack = from_host(world(), a(), kTcp, tcp(world(), a(), 443, 42000, kTcpSyn | kTcpAck));
  ASSERT_EQ(run_host(synack).verdict, kTcActRedirect);
  tr = traces();
  ASSERT_EQ(tr.size(), 1u);
  EXPECT_EQ(tr[0].obs_point, CPP_OBS_TO_ENDPOINT);
  EXPECT_EQ(tr[0].ep_id, kEpA);
  EXPECT_EQ(tr[0].direction, CPP_DIR_INGRESS);
  EXPECT_EQ(tr[0].src_identity, uint32_t{CPP_ID_WORLD});
  EXPECT_EQ(tr[0].dst_identity, kIdA);
  EXPECT_TRUE(tr[0].reply());
  EXPECT_EQ(tr[0].tcp_flags, kTcpSyn | kTcpAck);
  // Established answers: nothing at medium.
  ASSERT_EQ(run_host(from_host(world(), a(), kTcp, tcp(world(), a(), 443, 42000, kTcpAck))).verdict,
            kTcActRedirect);
  EXPECT_TRUE(traces().empty());
}

TEST_P(EventsTest, VerdictsAndDropsCarryTcpFlags) {
  set_flags_a(CPP_EP_F_ENFORCE_EGRESS);
  allow(kEpA, CPP_DIR_EGRESS, kIdB, kTcp, 80, 7);
  ASSERT_EQ(run_a(a_to_b(40000, 80, kTcpSyn)).verdict, kTcActRedirect);
  ASSERT_EQ(run_a(a_to_b(40001, 81, kTcpSyn)).verdict, kTcActShot);
  auto evs = events();
  auto verdicts = of_type(evs, CPP_EVENT_POLICY_VERDICT);
  ASSERT_EQ(verdicts.size(), 2u);
  EXPECT_EQ(verdicts[0].tcp_flags, kTcpSyn);
  EXPECT_FALSE(verdicts[0].reply());
  auto drops = of_type(evs, CPP_EVENT_DROP);
  ASSERT_EQ(drops.size(), 1u);
  EXPECT_EQ(drops[0].tcp_flags, kTcpSyn);
  EXPECT_EQ(of_type(evs, CPP_EVENT_TRACE).size(), 1u) << "only the allowed SYN was forwarded";
}

// A policy verdict names which of the six keys decided (upstream's policy
// match type): one new connection per kind of key.
TEST_P(EventsTest, PolicyVerdictsCarryTheMatchType) {
  set_flags_a(CPP_EP_F_ENFORCE_EGRESS);
  allow(kEpA, CPP_DIR_EGRESS, kIdB, kTcp, 80);
  allow(kEpA, CPP_DIR_EGRESS, kIdB, kUdp, 0);
  allow(kEpA, CPP_DIR_EGRESS, kIdB, 0, 0);
  allow(kEpA, CPP_DIR_EGRESS, 0, kTcp, 81);
  allow(kEpA, CPP_DIR_EGRESS, 0, kTcp, 0);
  deny(kEpA, CPP_DIR_EGRESS, kIdB, kTcp, 443);
  auto verdict_of = [&](const Bytes& pkt) {
    run_a(pkt);
    auto v = of_type(events(), CPP_EVENT_POLICY_VERDICT);
    EXPECT_EQ(v.size(), 1u);
    return v.empty() ? Event{} : v[0];
  };
  auto syn = [&](const IpAddr& d, uint16_t sp, uint16_t dp) {
    return from_a(a(), d, kTcp, tcp(a(), d, sp, dp, kTcpSyn));
  };
  auto ping = [&](const IpAddr& d, uint16_t id) { return from_a(a(), d, icmp_proto(d), echo(a(), d, id)); };

  EXPECT_EQ(verdict_of(syn(b(), 40000, 80)).match_type, CPP_MATCH_L3_L4);
  EXPECT_EQ(verdict_of(from_a(a(), b(), kUdp, udp(a(), b(), 40001, 5353))).match_type, CPP_MATCH_L3_PROTO);
  EXPECT_EQ(verdict_of(ping(b(), 7)).match_type, CPP_MATCH_L3_ONLY);
  EXPECT_EQ(verdict_of(syn(world(), 40002, 81)).match_type, CPP_MATCH_L4_ONLY);
  EXPECT_EQ(verdict_of(syn(world(), 40003, 82)).match_type, CPP_MATCH_PROTO_ONLY);
  Event denied = verdict_of(syn(b(), 40004, 443));
  EXPECT_EQ(denied.verdict, CPP_VERDICT_DENIED);
  EXPECT_EQ(denied.match_type, CPP_MATCH_L3_L4) << "the deny key decided";
  Event unmatched = verdict_of(ping(world(), 8));
  EXPECT_EQ(unmatched.verdict, CPP_VERDICT_DENIED);
  EXPECT_EQ(unmatched.match_type, CPP_MATCH_NONE);
  allow(kEpA, CPP_DIR_EGRESS, 0, 0, 0);
  EXPECT_EQ(verdict_of(ping(world(), 9)).match_type, CPP_MATCH_ALL);
}

TEST_P(EventsTest, MetricsCountEveryForwardedAndDroppedPacket) {
  // Same-node: A's egress and B's ingress, every packet (no aggregation).
  for (int i = 0; i < 3; ++i)
    ASSERT_EQ(run_a(a_to_b(40000, 80, i ? kTcpAck : kTcpSyn)).verdict, kTcActRedirect);
  // A -> world: egress only.
  ASSERT_EQ(run_a(from_a(a(), world(), kUdp, udp(a(), world(), 41000, 53))).verdict, kTcActOk);
  EXPECT_EQ(metric(0, CPP_METRIC_EGRESS), 4u);
  EXPECT_EQ(metric(0, CPP_METRIC_INGRESS), 3u);

  set_flags_b(CPP_EP_F_ENFORCE_INGRESS);
  ASSERT_EQ(run_a(a_to_b(40001, 80, kTcpSyn)).verdict, kTcActShot);
  ASSERT_EQ(run_a(a_to_b(40002, 80, kTcpSyn)).verdict, kTcActShot);
  EXPECT_EQ(metric(CPP_DROP_POLICY, CPP_METRIC_INGRESS), 2u);
  // Spoofed source: a drop helper without policy.
  auto spoofed = from_a(b(), world(), kUdp, udp(b(), world(), 1, 2));
  ASSERT_EQ(run_a(spoofed).verdict, kTcActShot);
  EXPECT_EQ(metric(CPP_DROP_INVALID_SIP, CPP_METRIC_EGRESS), 1u);
  // Bytes follow packets.
  for (const auto& m : datapath::MetricsMap(pin_.path()).dump()) EXPECT_GT(m.bytes, m.packets * 40) << int(m.reason);
}

TEST_P(EventsTest, FullRingIsCountedAsLost) {
  aggregation(CPP_MONITOR_AGG_NONE);
  datapath::EventsLostCounter lost(pin_.path());
  const uint64_t before = lost.read();
  ASSERT_EQ(run_a(from_a(a(), world(), kTcp, tcp(a(), world(), 40000, 80, kTcpSyn))).verdict, kTcActOk);
  events();
  // Every run of an established packet is one trace at "none"; nobody
  // reads while they run, so the ring fills. To the world (the stack):
  // same-node delivery would count the TTL down on every repeat.
  auto pkt = from_a(a(), world(), kTcp, tcp(a(), world(), 40000, 80, kTcpAck));
  const uint32_t n = 100000;
  bpf_test_run_opts opts{};
  opts.sz = sizeof(opts);
  opts.data_in = pkt.data();
  opts.data_size_in = static_cast<uint32_t>(pkt.size());
  opts.repeat = n;
  ASSERT_EQ(bpf_prog_test_run_opts(lxc_a_->fd(), &opts), 0);
  EXPECT_EQ(opts.retval, static_cast<uint32_t>(kTcActOk)) << "packets still forwarded";
  const uint64_t in_ring = traces().size();
  const uint64_t dropped = lost.read() - before;
  EXPECT_GT(dropped, 0u) << "the ring should have overflowed";
  EXPECT_LT(in_ring, n);
  EXPECT_EQ(in_ring + dropped, n) << "every trace either in the ring or counted as lost";
}

TEST(MonitorAggregation, ParsesTheConfigValues) {
  EXPECT_EQ(datapath::parse_monitor_aggregation(""), CPP_MONITOR_AGG_MEDIUM);
  EXPECT_EQ(datapath::parse_monitor_aggregation("none"), CPP_MONITOR_AGG_NONE);
  EXPECT_EQ(datapath::parse_monitor_aggregation("low"), CPP_MONITOR_AGG_LOW);
  EXPECT_EQ(datapath::parse_monitor_aggregation("medium"), CPP_MONITOR_AGG_MEDIUM);
  EXPECT_EQ(datapath::parse_monitor_aggregation("maximum"), CPP_MONITOR_AGG_MAXIMUM);
  try {
    datapath::parse_monitor_aggregation("loud");
    ADD_FAILURE() << "accepted 'loud'";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("monitor-aggregation"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("loud"), std::string::npos);
  }
}

}  // namespace
}  // namespace cpp::bpftest
