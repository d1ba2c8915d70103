// Policy enforcement, connection tracking and events through
// BPF_PROG_TEST_RUN: pod A's and pod B's bpf_lxc and the node's bpf_host,
// loaded as the agent loads them, sharing one set of pinned maps. Most
// tests run for IPv4 and IPv6 (the parameter).
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>

#include "datapath/pinned_map.h"
#include "policy_fixture.h"

namespace cpp::bpftest {
namespace {

using datapath::Event;

class PolicyTest : public PolicyFixture, public ::testing::WithParamInterface<bool> {
 protected:
  bool v6() const { return GetParam(); }
  IpAddr a() const { return v6() ? t_.a6 : t_.a4; }
  IpAddr b() const { return v6() ? t_.b6 : t_.b4; }
  IpAddr router() const { return v6() ? t_.router6 : t_.router4; }
  IpAddr world() const { return v6() ? t_.world6 : t_.world4; }

  // Common frames: pod A opening a connection to B / the world.
  Bytes syn_a_to(const IpAddr& dst, uint16_t sport, uint16_t dport) {
    return from_a(a(), dst, kTcp, tcp(a(), dst, sport, dport, kTcpSyn));
  }
  Bytes udp_a_to(const IpAddr& dst, uint16_t sport, uint16_t dport) {
    return from_a(a(), dst, kUdp, udp(a(), dst, sport, dport));
  }
  Bytes ping_a_to(const IpAddr& dst, uint16_t id) {
    return from_a(a(), dst, icmp_proto(dst), echo(a(), dst, id));
  }
  // The embedded header an ICMP error carries: IP header + 8 bytes of L4.
  Bytes embedded(const Bytes& frame) {
    size_t ip = v6() ? 40 : 20;
    return Bytes(frame.begin() + 14, frame.begin() + 14 + ip + 8);
  }
  Bytes icmp_error(const IpAddr& src, const IpAddr& dst, const Bytes& offending) {
    auto body = embedded(offending);
    // Destination unreachable / port unreachable, IPv4 and IPv6.
    return v6() ? icmp6_msg(src, dst, 1, 4, 0, body) : icmp4_msg(3, 3, 0, body);
  }
};

INSTANTIATE_TEST_SUITE_P(Family, PolicyTest, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "IPv6" : "IPv4"; });

// --- enforcement off -----------------------------------------------------------

TEST_P(PolicyTest, WithoutEnforcementEverythingPassesAsBefore) {
  EXPECT_EQ(run_a(syn_a_to(b(), 40000, 80)).verdict, kTcActRedirect);
  EXPECT_EQ(run_a(udp_a_to(b(), 40000, 53)).verdict, kTcActRedirect);
  EXPECT_EQ(run_a(ping_a_to(b(), 7)).verdict, kTcActRedirect);
  EXPECT_EQ(run_a(syn_a_to(world(), 40001, 443)).verdict, kTcActOk);
  EXPECT_EQ(run_host(from_host(world(), a(), kTcp, tcp(world(), a(), 5555, 22, kTcpSyn))).verdict,
            kTcActRedirect);
  // No policy decided anything: no verdict or drop events, only the
  // traces of the five forwarded new connections. Connections are still
  // tracked (the peer's policy may need them).
  auto evs = events();
  EXPECT_TRUE(of_type(evs, CPP_EVENT_POLICY_VERDICT).empty());
  EXPECT_TRUE(of_type(evs, CPP_EVENT_DROP).empty());
  EXPECT_EQ(of_type(evs, CPP_EVENT_TRACE).size(), 5u);
  EXPECT_GE(ct_->count(), 5u);
}

// --- egress --------------------------------------------------------------------

TEST_P(PolicyTest, EgressEnforcedWithoutEntriesDropsWithReason133) {
  set_flags_a(CPP_EP_F_ENFORCE_EGRESS);
  auto r = run_a(syn_a_to(b(), 40000, 80));
  EXPECT_EQ(r.verdict, kTcActShot);
  EXPECT_EQ(run_a(syn_a_to(world(), 40000, 80)).verdict, kTcActShot);

  auto evs = events();
  auto drops = of_type(evs, CPP_EVENT_DROP);
  ASSERT_EQ(drops.size(), 2u);
  const Event& d = drops[0];
  EXPECT_EQ(d.reason, CPP_DROP_POLICY);
  EXPECT_EQ(d.direction, CPP_DIR_EGRESS);
  EXPECT_EQ(d.ep_id, kEpA);
  EXPECT_EQ(d.src_identity, kIdA);
  EXPECT_EQ(d.dst_identity, kIdB);
  EXPECT_EQ(d.protocol, kTcp);
  EXPECT_EQ(d.saddr, a());
  EXPECT_EQ(d.daddr, b());
  EXPECT_EQ(d.sport, 40000);
  EXPECT_EQ(d.dport, 80);
  EXPECT_EQ(d.ifindex, static_cast<uint32_t>(t_.a_ifindex));
  EXPECT_GT(d.len, 0u);
  EXPECT_GT(d.ts_ns, 0u);
  EXPECT_EQ(drops[1].dst_identity, uint32_t{CPP_ID_WORLD}) << "unknown address is world";
  auto verdicts = of_type(evs, CPP_EVENT_POLICY_VERDICT);
  ASSERT_EQ(verdicts.size(), 2u);
  EXPECT_EQ(verdicts[0].verdict, CPP_VERDICT_DENIED);
  // Denied connections leave no conntrack state behind.
  EXPECT_EQ(ct_->count(), 0u);
}

TEST_P(PolicyTest, L4EntryAllowsOnlyThatProtocolAndPort) {
  set_flags_a(CPP_EP_F_ENFORCE_EGRESS);
  allow(kEpA, CPP_DIR_EGRESS, kIdB, kTcp, 80, 77);
  EXPECT_EQ(run_a(syn_a_to(b(), 40000, 80)).verdict, kTcActRedirect);
  EXPECT_EQ(run_a(syn_a_to(b(), 40001, 81)).verdict, kTcActShot);
  EXPECT_EQ(run_a(udp_a_to(b(), 40002, 80)).verdict, kTcActShot);
  EXPECT_EQ(run_a(syn_a_to(world(), 40003, 80)).verdict, kTcActShot) << "other identity";
  auto verdicts = of_type(events(), CPP_EVENT_POLICY_VERDICT);
  ASSERT_EQ(verdicts.size(), 4u);
  EXPECT_EQ(verdicts[0].verdict, CPP_VERDICT_ALLOWED);
  EXPECT_EQ(verdicts[0].cookie, 77u);
  EXPECT_EQ(verdicts[0].dport, 80);
  for (size_t i = 1; i < 4; ++i) EXPECT_EQ(verdicts[i].verdict, CPP_VERDICT_DENIED) << i;
}

TEST_P(PolicyTest, L3OnlyEntryAllowsEveryProtocolToThatIdentity) {
  set_flags_a(CPP_EP_F_ENFORCE_EGRESS);
  allow(kEpA, CPP_DIR_EGRESS, kIdB, 0, 0);
  EXPECT_EQ(run_a(syn_a_to(b(), 40000, 22)).verdict, kTcActRedirect);
  EXPECT_EQ(run_a(udp_a_to(b(), 40000, 5353)).verdict, kTcActRedirect);
  EXPECT_EQ(run_a(ping_a_to(b(), 9)).verdict, kTcActRedirect);
  EXPECT_EQ(run_a(syn_a_to(world(), 40000, 22)).verdict, kTcActShot);
  EXPECT_EQ(run_a(ping_a_to(router(), 9)).verdict, kTcActShot);
}

TEST_P(PolicyTest, AnyIdentityL4EntryAllowsThatPortToEveryone) {
  set_flags_a(CPP_EP_F_ENFORCE_EGRESS);
  allow(kEpA, CPP_DIR_EGRESS, 0, kTcp, 80);
  EXPECT_EQ(run_a(syn_a_to(b(), 40000, 80)).verdict, kTcActRedirect);
  EXPECT_EQ(run_a(syn_a_to(world(), 40000, 80)).verdict, kTcActOk);
  EXPECT_EQ(run_a(syn_a_to(router(), 40000, 80)).verdict, kTcActOk);
  EXPECT_EQ(run_a(syn_a_to(b(), 40001, 81)).verdict, kTcActShot);
  EXPECT_EQ(run_a(udp_a_to(b(), 40002, 80)).verdict, kTcActShot);
}

TEST_P(PolicyTest, ProtocolOnlyEntry) {
  set_flags_a(CPP_EP_F_ENFORCE_EGRESS);
  allow(kEpA, CPP_DIR_EGRESS, kIdB, kUdp, 0);
  EXPECT_EQ(run_a(udp_a_to(b(), 40000, 1)).verdict, kTcActRedirect);
  EXPECT_EQ(run_a(udp_a_to(b(), 40000, 65535)).verdict, kTcActRedirect);
  EXPECT_EQ(run_a(syn_a_to(b(), 40000, 53)).verdict, kTcActShot);
}

// Every combination of a matching deny key and a matching allow key, at all
// six specificities: the deny wins, reason 181, its cookie reported.
TEST_P(PolicyTest, DenyBeatsAllowAtEverySpecificity) {
  set_flags_a(CPP_EP_F_ENFORCE_EGRESS);
  struct K {
    uint32_t id;
    uint8_t proto;
    uint16_t port;
  };
  const K keys[] = {{kIdB, kTcp, 80}, {kIdB, kTcp, 0}, {kIdB, 0, 0},
                    {0, kTcp, 80},    {0, kTcp, 0},    {0, 0, 0}};
  uint16_t sport = 30000;
  for (int d = 0; d < 6; ++d) {
    // One allow at each other specificity, then all of them at once.
    for (int al = 0; al <= 6; ++al) {
      if (al == d) continue;
      for (int i = 0; i < 6; ++i)
        if (i != d && (al == 6 || i == al))
          allow(kEpA, CPP_DIR_EGRESS, keys[i].id, keys[i].proto, keys[i].port, 100 + i);
      deny(kEpA, CPP_DIR_EGRESS, keys[d].id, keys[d].proto, keys[d].port, 200 + d);
      SCOPED_TRACE("deny key " + std::to_string(d) + ", allow key " + std::to_string(al));
      auto r = run_a(syn_a_to(b(), ++sport, 80));
      EXPECT_EQ(r.verdict, kTcActShot);
      auto drops = of_type(events(), CPP_EVENT_DROP);
      ASSERT_EQ(drops.size(), 1u);
      EXPECT_EQ(drops[0].reason, CPP_DROP_POLICY_DENY);
      EXPECT_EQ(drops[0].cookie, 200u + d);
      EXPECT_EQ(policy_->remove_all_for_endpoint(kEpA), al == 6 ? 6u : 2u);
    }
  }
  EXPECT_EQ(ct_->count(), 0u);
}

TEST_P(PolicyTest, DenyEntriesThatDoNotMatchLeaveAllowsAlone) {
  set_flags_a(CPP_EP_F_ENFORCE_EGRESS);
  allow(kEpA, CPP_DIR_EGRESS, kIdB, 0, 0);
  deny(kEpA, CPP_DIR_EGRESS, kIdB, kTcp, 22);
  deny(kEpA, CPP_DIR_EGRESS, CPP_ID_WORLD, 0, 0);
  deny(kEpA, CPP_DIR_EGRESS, 0, kUdp, 0);
  deny(kEpA, CPP_DIR_INGRESS, 0, 0, 0);  // other direction
  deny(kEpB, CPP_DIR_EGRESS, 0, 0, 0);   // other endpoint
  EXPECT_EQ(run_a(syn_a_to(b(), 40000, 80)).verdict, kTcActRedirect);
  EXPECT_EQ(run_a(syn_a_to(b(), 40001, 22)).verdict, kTcActShot);
  EXPECT_EQ(run_a(udp_a_to(b(), 40002, 53)).verdict, kTcActShot);
  EXPECT_EQ(run_a(syn_a_to(world(), 40003, 80)).verdict, kTcActShot);
}

TEST_P(PolicyTest, IcmpTypeEntry) {
  set_flags_a(CPP_EP_F_ENFORCE_EGRESS);
  const uint8_t echo_request = v6() ? 128 : 8;
  allow(kEpA, CPP_DIR_EGRESS, kIdB, icmp_proto(a()), echo_request);
  EXPECT_EQ(run_a(ping_a_to(b(), 1)).verdict, kTcActRedirect);
  // Another ICMP type (IPv4 timestamp / IPv6 node information query).
  const uint8_t other = v6() ? 139 : 13;
  auto msg =
      v6() ? icmp6_msg(a(), b(), other, 0, 0, Bytes(8, 0)) : icmp4_msg(other, 0, 0, Bytes(12, 0));
  EXPECT_EQ(run_a(from_a(a(), b(), icmp_proto(a()), msg)).verdict, kTcActShot);
  auto ev = of_type(events(), CPP_EVENT_POLICY_VERDICT);
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[0].dport, echo_request) << "ICMP events carry the type as dport";
  EXPECT_EQ(ev[0].sport, 1) << "and the echo identifier as sport";
  EXPECT_EQ(ev[1].dport, other);
}

// --- ingress, same node ------------------------------------------------------------

TEST_P(PolicyTest, IngressOfTheDestinationPodIsEnforcedOnSameNodeDelivery) {
  set_flags_b(CPP_EP_F_ENFORCE_INGRESS);
  EXPECT_EQ(run_a(syn_a_to(b(), 40000, 80)).verdict, kTcActShot);
  auto drops = of_type(events(), CPP_EVENT_DROP);
  ASSERT_EQ(drops.size(), 1u);
  EXPECT_EQ(drops[0].direction, CPP_DIR_INGRESS);
  EXPECT_EQ(drops[0].ep_id, kEpB);
  EXPECT_EQ(drops[0].src_identity, kIdA);
  EXPECT_EQ(drops[0].dst_identity, kIdB);
  EXPECT_EQ(drops[0].ifindex, static_cast<uint32_t>(t_.b_ifindex));

  allow(kEpB, CPP_DIR_INGRESS, kIdA, kTcp, 80, 5);
  EXPECT_EQ(run_a(syn_a_to(b(), 40001, 80)).verdict, kTcActRedirect);
  EXPECT_EQ(run_a(syn_a_to(b(), 40002, 8080)).verdict, kTcActShot);
  // An entry for another source identity does not help.
  allow(kEpB, CPP_DIR_INGRESS, CPP_ID_WORLD, kTcp, 8080);
  EXPECT_EQ(run_a(syn_a_to(b(), 40003, 8080)).verdict, kTcActShot);
}

TEST_P(PolicyTest, EgressAndIngressAreBothChecked) {
  set_flags_a(CPP_EP_F_ENFORCE_EGRESS);
  set_flags_b(CPP_EP_F_ENFORCE_INGRESS);
  allow(kEpA, CPP_DIR_EGRESS, kIdB, kTcp, 80);
  EXPECT_EQ(run_a(syn_a_to(b(), 40000, 80)).verdict, kTcActShot) << "B's ingress has no entry";
  allow(kEpB, CPP_DIR_INGRESS, kIdA, kTcp, 80);
  EXPECT_EQ(run_a(syn_a_to(b(), 40000, 80)).verdict, kTcActRedirect);
  policy_->remove(datapath::PolicyKey{kEpA, CPP_DIR_EGRESS, kTcp, kIdB, 80});
  EXPECT_EQ(run_a(syn_a_to(b(), 40001, 80)).verdict, kTcActShot) << "A's egress has no entry";
}

// --- conntrack ----------------------------------------------------------------------

TEST_P(PolicyTest, RepliesPassAtServerEgressAndClientIngress) {
  // Both pods enforce both directions; only A -> B:80 is allowed.
  set_flags_a(CPP_EP_F_ENFORCE_EGRESS | CPP_EP_F_ENFORCE_INGRESS);
  set_flags_b(CPP_EP_F_ENFORCE_EGRESS | CPP_EP_F_ENFORCE_INGRESS);
  allow(kEpA, CPP_DIR_EGRESS, kIdB, kTcp, 80);
  allow(kEpB, CPP_DIR_INGRESS, kIdA, kTcp, 80);
  ASSERT_EQ(run_a(syn_a_to(b(), 40000, 80)).verdict, kTcActRedirect);
  // B answers through its own program: B's egress (no entry) finds B's
  // ingress entry, A's ingress (no entry) finds A's egress entry.
  auto synack = from_b(b(), a(), kTcp, tcp(b(), a(), 80, 40000, kTcpSyn | kTcpAck));
  auto r = run_b(synack);
  ASSERT_EQ(r.verdict, kTcActRedirect);
  EXPECT_EQ(mac_at(r.out, 0), t_.a_mac) << "delivered to A";
  EXPECT_EQ(run_a(from_a(a(), b(), kTcp, tcp(a(), b(), 40000, 80, kTcpAck))).verdict,
            kTcActRedirect);
  EXPECT_EQ(run_b(from_b(b(), a(), kTcp, tcp(b(), a(), 80, 40000, kTcpAck))).verdict,
            kTcActRedirect);
  // One decision per enforced direction of the SYN (A's egress, B's
  // ingress); replies and established packets are no policy decisions.
  EXPECT_EQ(of_type(events(), CPP_EVENT_POLICY_VERDICT).size(), 2u);

  // A new connection the other way round is policed: B -> A:80.
  EXPECT_EQ(run_b(from_b(b(), a(), kTcp, tcp(b(), a(), 40001, 80, kTcpSyn))).verdict, kTcActShot);
  // Not even a "reply" from another port of B.
  EXPECT_EQ(run_b(from_b(b(), a(), kTcp, tcp(b(), a(), 81, 40000, kTcpAck))).verdict, kTcActShot);
  // B's egress may be allowed now, A's ingress still is not.
  allow(kEpB, CPP_DIR_EGRESS, kIdA, kTcp, 80);
  EXPECT_EQ(run_b(from_b(b(), a(), kTcp, tcp(b(), a(), 40002, 80, kTcpSyn))).verdict, kTcActShot);
  auto drops = of_type(events(), CPP_EVENT_DROP);
  ASSERT_EQ(drops.size(), 3u);
  EXPECT_EQ(drops[2].direction, CPP_DIR_INGRESS);
  EXPECT_EQ(drops[2].ep_id, kEpA);
}

TEST_P(PolicyTest, EchoRepliesPassWithEgressOnlyPolicy) {
  set_flags_a(CPP_EP_F_ENFORCE_EGRESS | CPP_EP_F_ENFORCE_INGRESS);
  set_flags_b(CPP_EP_F_ENFORCE_EGRESS);
  allow(kEpA, CPP_DIR_EGRESS, kIdB, icmp_proto(a()), v6() ? 128 : 8);
  ASSERT_EQ(run_a(ping_a_to(b(), 77)).verdict, kTcActRedirect);
  auto reply = from_b(b(), a(), icmp_proto(a()), echo(b(), a(), 77, /*reply=*/true));
  EXPECT_EQ(run_b(reply).verdict, kTcActRedirect);
  // Another identifier is another "connection": no reply.
  auto stray = from_b(b(), a(), icmp_proto(a()), echo(b(), a(), 78, true));
  EXPECT_EQ(run_b(stray).verdict, kTcActShot);
  // B pinging A is new and B's egress has no entry.
  EXPECT_EQ(run_b(from_b(b(), a(), icmp_proto(a()), echo(b(), a(), 77))).verdict, kTcActShot);
}

TEST_P(PolicyTest, EstablishedConnectionSurvivesPolicyRemovalNewOnesDrop) {
  set_flags_a(CPP_EP_F_ENFORCE_EGRESS);
  allow(kEpA, CPP_DIR_EGRESS, kIdB, kTcp, 80);
  ASSERT_EQ(run_a(syn_a_to(b(), 40000, 80)).verdict, kTcActRedirect);
  policy_->remove_all_for_endpoint(kEpA);
  deny(kEpA, CPP_DIR_EGRESS, 0, 0, 0);
  auto ack = from_a(a(), b(), kTcp, tcp(a(), b(), 40000, 80, kTcpAck));
  for (int i = 0; i < 3; ++i) EXPECT_EQ(run_a(ack).verdict, kTcActRedirect);
  EXPECT_EQ(run_a(syn_a_to(b(), 40001, 80)).verdict, kTcActShot);
}

TEST_P(PolicyTest, TcpStateAndTimeouts) {
  using datapath::CtEntry;
  auto find = [&](uint8_t dir) -> std::optional<CtEntry> {
    for (const auto& e : ct_->dump())
      if (e.saddr == a() && e.daddr == b() && e.sport == 40000 && e.dport == 80 && e.dir == dir)
        return e;
    return std::nullopt;
  };
  auto ttl_s = [&](const CtEntry& e) {
    return (static_cast<int64_t>(e.expires_ns) -
            static_cast<int64_t>(datapath::monotonic_now_ns())) /
           1e9;
  };
  ASSERT_EQ(run_a(syn_a_to(b(), 40000, 80)).verdict, kTcActRedirect);
  auto e = find(CPP_CT_EGRESS);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->flags, uint32_t{CPP_CT_F_SYN_SEEN});
  EXPECT_NEAR(ttl_s(*e), 60, 2);
  EXPECT_EQ(e->ep_id, kEpA);
  EXPECT_EQ(e->src_identity, kIdA);
  auto in = find(CPP_CT_INGRESS);
  ASSERT_TRUE(in) << "B's ingress entry";
  EXPECT_EQ(in->ep_id, kEpB);
  EXPECT_EQ(in->src_identity, kIdA);

  run_b(from_b(b(), a(), kTcp, tcp(b(), a(), 80, 40000, kTcpSyn | kTcpAck)));
  EXPECT_NEAR(ttl_s(*find(CPP_CT_EGRESS)), 60, 2) << "only SYNs so far";
  run_a(from_a(a(), b(), kTcp, tcp(a(), b(), 40000, 80, kTcpAck)));
  e = find(CPP_CT_EGRESS);
  EXPECT_TRUE(e->flags & CPP_CT_F_ESTABLISHED);
  EXPECT_NEAR(ttl_s(*e), 21600, 2);
  EXPECT_EQ(e->packets, 3u);

  // FIN one way: still established (half-close); FIN both ways: 10 s.
  run_a(from_a(a(), b(), kTcp, tcp(a(), b(), 40000, 80, kTcpFin | kTcpAck)));
  EXPECT_NEAR(ttl_s(*find(CPP_CT_EGRESS)), 21600, 2);
  run_b(from_b(b(), a(), kTcp, tcp(b(), a(), 80, 40000, kTcpFin | kTcpAck)));
  e = find(CPP_CT_EGRESS);
  EXPECT_TRUE((e->flags & CPP_CT_F_FIN_TX) && (e->flags & CPP_CT_F_FIN_RX));
  EXPECT_NEAR(ttl_s(*e), 10, 2);

  // A SYN on the closing tuple is a new connection: policed again.
  set_flags_a(CPP_EP_F_ENFORCE_EGRESS);
  EXPECT_EQ(run_a(syn_a_to(b(), 40000, 80)).verdict, kTcActShot);
}

TEST_P(PolicyTest, RstClosesAndUdpLivesSixtySeconds) {
  ASSERT_EQ(run_a(syn_a_to(b(), 40000, 80)).verdict, kTcActRedirect);
  run_b(from_b(b(), a(), kTcp, tcp(b(), a(), 80, 40000, kTcpRst | kTcpAck)));
  ASSERT_EQ(run_a(udp_a_to(b(), 5000, 53)).verdict, kTcActRedirect);
  auto now = datapath::monotonic_now_ns();
  int checked = 0;
  for (const auto& e : ct_->dump()) {
    if (e.dir != CPP_CT_EGRESS) continue;
    double ttl = (static_cast<double>(e.expires_ns) - static_cast<double>(now)) / 1e9;
    if (e.nexthdr == kTcp) {
      EXPECT_TRUE(e.flags & CPP_CT_F_RST);
      EXPECT_NEAR(ttl, 10, 2);
      ++checked;
    } else if (e.nexthdr == kUdp) {
      EXPECT_NEAR(ttl, 60, 2);
      ++checked;
    }
  }
  EXPECT_EQ(checked, 2);
}

TEST_P(PolicyTest, ExpiredEntriesAreTreatedAsAbsent) {
  set_flags_a(CPP_EP_F_ENFORCE_INGRESS);
  // A's egress entry for A -> world:53, expired a second ago.
  auto path = pin_.path() + (v6() ? "/" CPP_MAP_CT6 : "/" CPP_MAP_CT4);
  cpp_ct_value v{};
  v.expires_ns = datapath::monotonic_now_ns() - 1000000000ull;
  v.ep_id = kEpA;
  if (v6()) {
    datapath::PinnedMap m(path, sizeof(cpp_ct_key6), sizeof(cpp_ct_value));
    cpp_ct_key6 k{};
    std::memcpy(k.saddr, a().bytes.data(), 16);
    std::memcpy(k.daddr, world().bytes.data(), 16);
    k.sport = htons(5000);
    k.dport = htons(53);
    k.nexthdr = kUdp;
    k.dir = CPP_CT_EGRESS;
    m.update(&k, &v);
  } else {
    datapath::PinnedMap m(path, sizeof(cpp_ct_key4), sizeof(cpp_ct_value));
    cpp_ct_key4 k{};
    std::memcpy(&k.saddr, a().bytes.data(), 4);
    std::memcpy(&k.daddr, world().bytes.data(), 4);
    k.sport = htons(5000);
    k.dport = htons(53);
    k.nexthdr = kUdp;
    k.dir = CPP_CT_EGRESS;
    m.update(&k, &v);
  }
  auto reply = from_host(world(), a(), kUdp, udp(world(), a(), 53, 5000));
  EXPECT_EQ(run_host(reply).verdict, kTcActShot);
  // Sending again refreshes it (overwrites the stale entry); now it works.
  ASSERT_EQ(run_a(udp_a_to(world(), 5000, 53)).verdict, kTcActOk);
  EXPECT_EQ(run_host(reply).verdict, kTcActRedirect);
}

TEST_P(PolicyTest, RelatedIcmpErrorsAreAllowed) {
  set_flags_a(CPP_EP_F_ENFORCE_EGRESS | CPP_EP_F_ENFORCE_INGRESS);
  allow(kEpA, CPP_DIR_EGRESS, CPP_ID_WORLD, kUdp, 53);
  auto query = udp_a_to(world(), 5000, 53);
  ASSERT_EQ(run_a(query).verdict, kTcActOk);
  // The router reports the world unreachable; it comes back via bpf_host.
  auto err = icmp_error(router(), a(), query);
  auto r = run_host(from_host(router(), a(), icmp_proto(a()), err));
  EXPECT_EQ(r.verdict, kTcActRedirect);
  // Packet too big (IPv6) / fragmentation needed (IPv4) as well.
  auto ptb = v6() ? icmp6_msg(router(), a(), 2, 0, 1280, embedded(query))
                  : icmp4_msg(3, 4, 1400, embedded(query));
  EXPECT_EQ(run_host(from_host(router(), a(), icmp_proto(a()), ptb)).verdict, kTcActRedirect);
  // An error about a connection nobody opened is policed (and dropped).
  auto other = udp_a_to(world(), 5001, 53);
  auto err2 = icmp_error(router(), a(), other);
  EXPECT_EQ(run_host(from_host(router(), a(), icmp_proto(a()), err2)).verdict, kTcActShot);
  // Time exceeded on the same-node path: B reports about A's packet.
  allow(kEpA, CPP_DIR_EGRESS, kIdB, kUdp, 0);
  set_flags_b(CPP_EP_F_ENFORCE_EGRESS);
  auto to_b = udp_a_to(b(), 6000, 7);
  ASSERT_EQ(run_a(to_b).verdict, kTcActRedirect);
  auto te =
      v6() ? icmp6_msg(b(), a(), 3, 0, 0, embedded(to_b)) : icmp4_msg(11, 0, 0, embedded(to_b));
  EXPECT_EQ(run_b(from_b(b(), a(), icmp_proto(a()), te)).verdict, kTcActRedirect)
      << "B's egress and A's ingress both recognise it";
}

TEST_P(PolicyTest, AuditModeReportsAndAllows) {
  set_flags_a(CPP_EP_F_ENFORCE_EGRESS | CPP_EP_F_AUDIT);
  EXPECT_EQ(run_a(syn_a_to(b(), 40000, 80)).verdict, kTcActRedirect);
  deny(kEpA, CPP_DIR_EGRESS, kIdB, kTcp, 81, 9);
  EXPECT_EQ(run_a(syn_a_to(b(), 40001, 81)).verdict, kTcActRedirect);
  allow(kEpA, CPP_DIR_EGRESS, kIdB, kTcp, 82, 10);
  EXPECT_EQ(run_a(syn_a_to(b(), 40002, 82)).verdict, kTcActRedirect);
  auto evs = events();
  EXPECT_TRUE(of_type(evs, CPP_EVENT_DROP).empty());
  auto v = of_type(evs, CPP_EVENT_POLICY_VERDICT);
  ASSERT_EQ(v.size(), 3u);
  EXPECT_EQ(v[0].verdict, CPP_VERDICT_AUDIT);
  EXPECT_EQ(v[0].reason, CPP_DROP_POLICY);
  EXPECT_EQ(v[1].verdict, CPP_VERDICT_AUDIT);
  EXPECT_EQ(v[1].reason, CPP_DROP_POLICY_DENY);
  EXPECT_EQ(v[1].cookie, 9u);
  EXPECT_EQ(v[2].verdict, CPP_VERDICT_ALLOWED);
  // Audited connections are tracked like allowed ones: one event each.
  run_a(from_a(a(), b(), kTcp, tcp(a(), b(), 40000, 80, kTcpAck)));
  EXPECT_TRUE(events().empty());
}

TEST_P(PolicyTest, CountersCountPolicyDecisions) {
  set_flags_a(CPP_EP_F_ENFORCE_EGRESS);
  allow(kEpA, CPP_DIR_EGRESS, kIdB, kTcp, 80);
  allow(kEpA, CPP_DIR_EGRESS, kIdB, 0, 0);  // less specific: not the decider
  deny(kEpA, CPP_DIR_EGRESS, kIdB, kTcp, 22);
  auto syn = syn_a_to(b(), 40000, 80);
  ASSERT_EQ(run_a(syn).verdict, kTcActRedirect);
  ASSERT_EQ(run_a(syn_a_to(b(), 40001, 80)).verdict, kTcActRedirect);
  // Established packets do not reach the policy.
  run_a(from_a(a(), b(), kTcp, tcp(a(), b(), 40000, 80, kTcpAck)));
  EXPECT_EQ(run_a(syn_a_to(b(), 40002, 22)).verdict, kTcActShot);
  EXPECT_EQ(run_a(syn_a_to(b(), 40003, 22)).verdict, kTcActShot);
  EXPECT_EQ(run_a(syn_a_to(b(), 40004, 22)).verdict, kTcActShot);

  auto e80 = entry(kEpA, CPP_DIR_EGRESS, kIdB, kTcp, 80);
  ASSERT_TRUE(e80);
  EXPECT_EQ(e80->packets, 2u);
  EXPECT_EQ(e80->bytes, 2 * syn.size());
  EXPECT_EQ(entry(kEpA, CPP_DIR_EGRESS, kIdB, 0, 0)->packets, 0u);
  EXPECT_EQ(entry(kEpA, CPP_DIR_EGRESS, kIdB, kTcp, 22)->packets, 3u);
  // Rewriting an entry keeps its counters.
  allow(kEpA, CPP_DIR_EGRESS, kIdB, kTcp, 80, 1234);
  EXPECT_EQ(entry(kEpA, CPP_DIR_EGRESS, kIdB, kTcp, 80)->packets, 2u);
  EXPECT_EQ(entry(kEpA, CPP_DIR_EGRESS, kIdB, kTcp, 80)->entry.cookie, 1234u);
}

TEST_P(PolicyTest, FlagsChangeWithoutReload) {
  EXPECT_EQ(run_a(syn_a_to(b(), 40000, 80)).verdict, kTcActRedirect);
  set_flags_a(CPP_EP_F_ENFORCE_EGRESS);
  EXPECT_EQ(run_a(syn_a_to(b(), 40001, 80)).verdict, kTcActShot);
  set_flags_a(0);
  EXPECT_EQ(run_a(syn_a_to(b(), 40002, 80)).verdict, kTcActRedirect);
}

TEST_P(PolicyTest, LinkControlIsNotPoliced) {
  set_flags_a(CPP_EP_F_ENFORCE_EGRESS | CPP_EP_F_ENFORCE_INGRESS);
  if (v6()) {
    auto sn = solicited_node(t_.router6);
    EXPECT_EQ(run_a(ipv6_ns(ipv6_mcast_mac(sn), t_.a_mac, t_.a6, sn, t_.router6, true)).verdict,
              kTcActRedirect)
        << "neighbour solicitation still answered";
    Bytes rs = {133, 0, 0, 0, 0, 0, 0, 0};
    EXPECT_EQ(
        run_a(ipv6_packet(t_.a_lxc_mac, t_.a_mac, t_.a_ll, ip("ff02::2"), 58, rs, 255)).verdict,
        kTcActOk);
    // An advertisement from the pod's global address (answering the
    // node's solicitation) is link control too.
    Bytes target(t_.a6.bytes.begin(), t_.a6.bytes.end());
    auto na = icmp6_msg(t_.a6, t_.router6, 136, 0, 0x40000000, target);
    EXPECT_EQ(run_a(from_a(t_.a6, t_.router6, 58, na)).verdict, kTcActOk);
  } else {
    auto arp = arp_packet(1, MacAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, t_.a_mac, t_.a4,
                          MacAddr{}, t_.router4);
    EXPECT_EQ(run_a(arp).verdict, kTcActRedirect) << "ARP still answered";
  }
  EXPECT_TRUE(events().empty());
}

TEST_P(PolicyTest, OtherDropsAreReported) {
  // Spoofed source (132), truncated TCP header (135), TTL exhausted (196).
  auto spoofed = from_a(b(), world(), kUdp, udp(b(), world(), 1, 2));
  EXPECT_EQ(run_a(spoofed).verdict, kTcActShot);
  auto truncated = from_a(a(), b(), kTcp, Bytes{0x9c, 0x40, 0x00});
  EXPECT_EQ(run_a(truncated).verdict, kTcActShot);
  auto l4 = udp(a(), b(), 1, 2);
  auto ttl1 = v6() ? ipv6_packet(t_.a_lxc_mac, t_.a_mac, a(), b(), kUdp, l4, 1)
                   : ipv4_packet(t_.a_lxc_mac, t_.a_mac, a(), b(), kUdp, l4, 1);
  EXPECT_EQ(run_a(ttl1).verdict, kTcActShot);
  auto drops = of_type(events(), CPP_EVENT_DROP);
  ASSERT_EQ(drops.size(), 3u);
  EXPECT_EQ(drops[0].reason, CPP_DROP_INVALID_SIP);
  EXPECT_EQ(drops[0].saddr, b());
  EXPECT_EQ(drops[1].reason, CPP_DROP_CT_INVALID_HDR);
  EXPECT_EQ(drops[2].reason, CPP_DROP_TTL_EXCEEDED);
}

// --- bpf_host ------------------------------------------------------------------------

TEST_P(PolicyTest, HostIngressFromHostIdentityFollowsPolicy) {
  set_flags_b(CPP_EP_F_ENFORCE_INGRESS);
  auto from_router = [&](uint16_t sport, uint16_t dport) {
    return from_host(router(), b(), kTcp, tcp(router(), b(), sport, dport, kTcpSyn));
  };
  EXPECT_EQ(run_host(from_router(1000, 80)).verdict, kTcActShot);
  auto drops = of_type(events(), CPP_EVENT_DROP);
  ASSERT_EQ(drops.size(), 1u);
  EXPECT_EQ(drops[0].src_identity, uint32_t{CPP_ID_HOST});
  EXPECT_EQ(drops[0].direction, CPP_DIR_INGRESS);
  EXPECT_EQ(drops[0].ep_id, kEpB);

  allow(kEpB, CPP_DIR_INGRESS, CPP_ID_HOST, 0, 0);  // e.g. health checks from the node
  deny(kEpB, CPP_DIR_INGRESS, CPP_ID_HOST, kTcp, 22, 3);
  auto r = run_host(from_router(1001, 80));
  ASSERT_EQ(r.verdict, kTcActRedirect);
  EXPECT_EQ(mac_at(r.out, 0), t_.b_mac);
  EXPECT_EQ(run_host(from_router(1002, 22)).verdict, kTcActShot);
  // The world is not the host.
  EXPECT_EQ(run_host(from_host(world(), b(), kTcp, tcp(world(), b(), 1003, 80, kTcpSyn))).verdict,
            kTcActShot);
  auto d2 = of_type(events(), CPP_EVENT_DROP);
  ASSERT_EQ(d2.size(), 2u);
  EXPECT_EQ(d2[0].reason, CPP_DROP_POLICY_DENY);
  EXPECT_EQ(d2[1].reason, CPP_DROP_POLICY);
  EXPECT_EQ(d2[1].src_identity, uint32_t{CPP_ID_WORLD});
}

TEST_P(PolicyTest, HostDeliversRepliesToPodInitiatedConnections) {
  set_flags_a(CPP_EP_F_ENFORCE_INGRESS);  // nothing may come in on its own
  ASSERT_EQ(run_a(syn_a_to(world(), 40000, 443)).verdict, kTcActOk);
  ASSERT_EQ(run_a(ping_a_to(router(), 5)).verdict, kTcActOk);
  auto synack = from_host(world(), a(), kTcp, tcp(world(), a(), 443, 40000, kTcpSyn | kTcpAck));
  EXPECT_EQ(run_host(synack).verdict, kTcActRedirect);
  auto pong = from_host(router(), a(), icmp_proto(a()), echo(router(), a(), 5, true));
  EXPECT_EQ(run_host(pong).verdict, kTcActRedirect);
  // A connection the world opens is not a reply.
  EXPECT_EQ(run_host(from_host(world(), a(), kTcp, tcp(world(), a(), 443, 40001, kTcpSyn))).verdict,
            kTcActShot);
}

// --- events ------------------------------------------------------------------------

// The brief's literal check: a drop event read back with libbpf's own
// ring_buffer API on the pinned map.
TEST_P(PolicyTest, DropEventReadWithRawRingBuffer) {
  events_.reset();  // one reader per ring
  set_flags_a(CPP_EP_F_ENFORCE_EGRESS);
  ASSERT_EQ(run_a(syn_a_to(b(), 40000, 80)).verdict, kTcActShot);
  int fd = bpf_obj_get((pin_.path() + "/" CPP_MAP_EVENTS).c_str());
  ASSERT_GE(fd, 0);
  std::vector<cpp_event> seen;
  auto cb = [](void* ctx, void* data, size_t size) -> int {
    if (size >= sizeof(cpp_event))
      static_cast<std::vector<cpp_event>*>(ctx)->push_back(*static_cast<cpp_event*>(data));
    return 0;
  };
  ring_buffer* rb = ring_buffer__new(fd, cb, &seen, nullptr);
  ASSERT_NE(rb, nullptr);
  EXPECT_EQ(ring_buffer__consume(rb), 2);
  ring_buffer__free(rb);
  ::close(fd);
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[1].type, CPP_EVENT_DROP);
  EXPECT_EQ(seen[1].reason, CPP_DROP_POLICY);
  EXPECT_EQ(seen[1].ep_id, kEpA);
  EXPECT_EQ(ntohs(seen[1].dport), 80);
}

TEST_P(PolicyTest, EventReaderThreadDeliversAndStops) {
  events_.reset();  // one reader per ring
  std::mutex mu;
  std::condition_variable cv;
  std::vector<Event> seen;
  datapath::EventReader reader(pin_.path(), [&](const Event& e) {
    std::lock_guard lock(mu);
    seen.push_back(e);
    cv.notify_all();
  });
  reader.start();
  EXPECT_TRUE(reader.running());
  set_flags_a(CPP_EP_F_ENFORCE_EGRESS);
  ASSERT_EQ(run_a(syn_a_to(b(), 40000, 80)).verdict, kTcActShot);
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(5), [&] { return seen.size() >= 2; }))
        << "the reader thread did not deliver";
    EXPECT_EQ(seen[0].type, CPP_EVENT_POLICY_VERDICT);
    EXPECT_EQ(seen[1].type, CPP_EVENT_DROP);
    EXPECT_EQ(seen[1].daddr, b());
  }
  reader.stop();
  EXPECT_FALSE(reader.running());
  reader.stop();  // idempotent
  // Stopped: events wait in the ring for the next read.
  ASSERT_EQ(run_a(syn_a_to(b(), 40001, 80)).verdict, kTcActShot);
  EXPECT_EQ(reader.consume(), 2);
  EXPECT_EQ(reader.delivered(), 4u);
  EXPECT_EQ(reader.malformed(), 0u);
  // And it can be started again.
  reader.start();
  ASSERT_EQ(run_a(syn_a_to(b(), 40002, 80)).verdict, kTcActShot);
  std::unique_lock lock(mu);
  EXPECT_TRUE(cv.wait_for(lock, std::chrono::seconds(5), [&] { return seen.size() >= 6; }));
}

TEST_P(PolicyTest, FullRingDropsEventsNotPackets) {
  set_flags_a(CPP_EP_F_ENFORCE_EGRESS);
  // Two events per denied packet, 72 bytes each plus headers: 4 MiB fill
  // up well before 60000 packets.
  auto denied = syn_a_to(b(), 40000, 80);
  bpf_test_run_opts opts{};
  opts.sz = sizeof(opts);
  opts.data_in = denied.data();
  opts.data_size_in = static_cast<uint32_t>(denied.size());
  opts.repeat = 60000;
  ASSERT_EQ(bpf_prog_test_run_opts(lxc_a_->fd(), &opts), 0);
  EXPECT_EQ(opts.retval, static_cast<uint32_t>(kTcActShot));
  allow(kEpA, CPP_DIR_EGRESS, kIdB, kTcp, 80);
  EXPECT_EQ(run_a(syn_a_to(b(), 40001, 80)).verdict, kTcActRedirect) << "allowed despite full ring";
  auto n = events().size();
  EXPECT_LT(n, 120000u) << "the ring should have overflowed";
  EXPECT_GT(n, 1000u);
}

// --- policy not applying -------------------------------------------------------------

TEST_P(PolicyTest, MissingOwnEndpointEntryMeansNoEnforcement) {
  // The program is attached before the agent writes the endpoint's map
  // entries; until then nothing is enforced (there is no policy yet).
  for (const auto& addr : {t_.a4, t_.a6}) eps_->remove(addr);
  EXPECT_EQ(run_a(syn_a_to(b(), 40000, 80)).verdict, kTcActRedirect);
}

}  // namespace
}  // namespace cpp::bpftest
