// Per-packet ClusterIP load balancing in bpf_lxc / bpf_host through
// BPF_PROG_TEST_RUN: DNAT of what pod A sends to a frontend, the backend
// kept per connection, reverse NAT of the backend's replies (pod B's
// program, bpf_host for backends behind the stack, an external client's
// reply), affinity, Maglev and the answer to a frontend without backends.
// Checksums are recomputed independently (test_util).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <set>

#include "bpf_lb_fixture.h"
#include "datapath/policy_map.h"

namespace cpp::bpftest {
namespace {

constexpr size_t kEth = 14, kIp4 = 20, kIp6 = 40;

class BpfLbLxcTest : public LbFixture {
 protected:
  IpAddr fe4 = ip("10.96.0.10"), fe6 = ip("fd00:96::10");
  IpAddr remote4 = ip("10.233.65.5"), remote6 = ip("fd00:cafe:1::5");   // pods elsewhere
  IpAddr remote4b = ip("10.233.65.6"), remote6b = ip("fd00:cafe:1::6");
  IpAddr outside4 = ip("192.0.2.50"), outside6 = ip("2001:db8:50::1");  // behind the stack

  static size_t l3(const IpAddr& a) { return a.v6 ? kIp6 : kIp4; }
  const IpAddr& a_of(const IpAddr& fe) const { return fe.v6 ? t_.a6 : t_.a4; }
  const IpAddr& b_of(const IpAddr& fe) const { return fe.v6 ? t_.b6 : t_.b4; }

  IpAddr dst_of(const Bytes& p, bool v6) const { return v6 ? ip6_at(p, kEth + 24) : ip4_at(p, kEth + 16); }
  IpAddr src_of(const Bytes& p, bool v6) const { return v6 ? ip6_at(p, kEth + 8) : ip4_at(p, kEth + 12); }
  uint16_t sport_of(const Bytes& p, bool v6) const { return be16(p, kEth + (v6 ? kIp6 : kIp4)); }
  uint16_t dport_of(const Bytes& p, bool v6) const { return be16(p, kEth + (v6 ? kIp6 : kIp4) + 2); }

  // Both checksums of a TCP/UDP packet, recomputed from scratch.
  void expect_valid(const Bytes& p, bool v6, uint8_t proto) {
    size_t off = kEth + (v6 ? kIp6 : kIp4);
    IpAddr s = src_of(p, v6), d = dst_of(p, v6);
    if (!v6) {
      EXPECT_EQ(ipv4_header_csum(&p[kEth], kIp4), 0) << "IPv4 header checksum";
    }
    uint16_t c = v6 ? ipv6_l4_csum(s, d, proto, &p[off], p.size() - off)
                    : ipv4_l4_csum(s, d, proto, &p[off], p.size() - off);
    EXPECT_EQ(c, 0) << "L4 checksum";
  }

  Bytes syn(const IpAddr& s, const IpAddr& d, uint16_t sp, uint16_t dp, uint8_t flags = kTcpSyn) {
    return tcp_segment(s, d, sp, dp, flags);
  }
};

TEST_F(BpfLbLxcTest, TcpAndUdpToClusterIpAreTranslatedToTheBackend) {
  for (const auto& fe : {fe4, fe6}) {
    bool v6 = fe.v6;
    const IpAddr& be = v6 ? remote6 : remote4;
    lb_->backend(1, be, 8080, kTcp);
    lb_->backend(2, be, 5353, kUdp);
    lb_->service({fe, 80, kTcp}, 10, {1});
    lb_->service({fe, 53, kUdp}, 11, {2});
    const IpAddr& a = a_of(fe);

    auto t = run_a(from_a(a, fe, kTcp, syn(a, fe, 40000, 80)));
    EXPECT_EQ(t.verdict, kTcActOk) << "a backend on no local pod goes to the stack";
    EXPECT_EQ(dst_of(t.out, v6), be);
    EXPECT_EQ(dport_of(t.out, v6), 8080);
    EXPECT_EQ(src_of(t.out, v6), a);
    EXPECT_EQ(sport_of(t.out, v6), 40000);
    expect_valid(t.out, v6, kTcp);

    auto u = run_a(from_a(a, fe, kUdp, udp_dgram(a, fe, 40001, 53, "query")));
    EXPECT_EQ(u.verdict, kTcActOk);
    EXPECT_EQ(dst_of(u.out, v6), be);
    EXPECT_EQ(dport_of(u.out, v6), 5353);
    expect_valid(u.out, v6, kUdp);

    // Not a frontend (other port): untouched.
    auto n = run_a(from_a(a, fe, kTcp, syn(a, fe, 40002, 81)));
    EXPECT_EQ(dst_of(n.out, v6), fe);
  }
}

TEST_F(BpfLbLxcTest, Ipv4UdpWithoutChecksumStaysWithout) {
  lb_->backend(2, remote4, 5353, kUdp);
  lb_->service({fe4, 53, kUdp}, 11, {2});
  auto req = from_a(t_.a4, fe4, kUdp, udp_dgram(t_.a4, fe4, 40001, 53, "query"));
  req[kEth + kIp4 + 6] = req[kEth + kIp4 + 7] = 0;  // IPv4 UDP: checksum 0 means none
  auto r = run_a(req);
  EXPECT_EQ(dst_of(r.out, false), remote4);
  EXPECT_EQ(be16(r.out, kEth + kIp4 + 6), 0);
  EXPECT_EQ(ipv4_header_csum(&r.out[kEth], kIp4), 0);
}

TEST_F(BpfLbLxcTest, LocalBackendIsDeliveredAndItsReplyReverseTranslated) {
  for (const auto& fe : {fe4, fe6}) {
    bool v6 = fe.v6;
    const IpAddr& a = a_of(fe);
    const IpAddr& b = b_of(fe);
    lb_->backend(3, b, 8080, kTcp);
    lb_->service({fe, 80, kTcp}, 12, {3});

    auto req = run_a(from_a(a, fe, kTcp, syn(a, fe, 41000, 80)));
    ASSERT_EQ(req.verdict, kTcActRedirect) << "pod B is on this node: redirect_peer";
    EXPECT_EQ(mac_at(req.out, 0), t_.b_mac);
    EXPECT_EQ(dst_of(req.out, v6), b);
    EXPECT_EQ(dport_of(req.out, v6), 8080);
    expect_valid(req.out, v6, kTcp);

    // Pod B answers from its own address; A must see the frontend.
    auto rep = run_b(from_b(b, a, kTcp, syn(b, a, 8080, 41000, kTcpSyn | kTcpAck)));
    ASSERT_EQ(rep.verdict, kTcActRedirect);
    EXPECT_EQ(mac_at(rep.out, 0), t_.a_mac);
    EXPECT_EQ(src_of(rep.out, v6), fe);
    EXPECT_EQ(sport_of(rep.out, v6), 80);
    EXPECT_EQ(dst_of(rep.out, v6), a);
    EXPECT_EQ(dport_of(rep.out, v6), 41000);
    expect_valid(rep.out, v6, kTcp);

    // B talking to A on its own (no REV entry): untouched.
    auto own = run_b(from_b(b, a, kTcp, syn(b, a, 8080, 41999, kTcpSyn)));
    EXPECT_EQ(src_of(own.out, v6), b);
  }
}

TEST_F(BpfLbLxcTest, ReplyFromBackendBehindTheStackIsReverseTranslatedInBpfHost) {
  for (const auto& fe : {fe4, fe6}) {
    bool v6 = fe.v6;
    const IpAddr& a = a_of(fe);
    const IpAddr& be = v6 ? outside6 : outside4;
    lb_->backend(4, be, 9090, kUdp);
    lb_->service({fe, 90, kUdp}, 13, {4});

    auto req = run_a(from_a(a, fe, kUdp, udp_dgram(a, fe, 42000, 90, "ping")));
    ASSERT_EQ(req.verdict, kTcActOk);
    ASSERT_EQ(dst_of(req.out, v6), be);

    auto rep = run_host(from_host(be, a, kUdp, udp_dgram(be, a, 9090, 42000, "pong")));
    ASSERT_EQ(rep.verdict, kTcActRedirect) << "to pod A's lxc";
    EXPECT_EQ(src_of(rep.out, v6), fe);
    EXPECT_EQ(sport_of(rep.out, v6), 90);
    expect_valid(rep.out, v6, kUdp);
  }
}

TEST_F(BpfLbLxcTest, ConnectionKeepsItsBackendWhileTheSlotsChange) {
  lb_->backend(1, remote4, 8080, kTcp);
  lb_->backend(2, remote4b, 8080, kTcp);
  lb_->service({fe4, 80, kTcp}, 10, {1});
  auto first = run_a(from_a(t_.a4, fe4, kTcp, syn(t_.a4, fe4, 43000, 80)));
  ASSERT_EQ(dst_of(first.out, false), remote4);

  // Backend 1 is terminating: out of the slots, still in cpp_lb_be.
  lb_->backend(1, remote4, 8080, kTcp, CPP_LB_BE_F_TERMINATING);
  lb_->service({fe4, 80, kTcp}, 10, {2});
  auto more = run_a(from_a(t_.a4, fe4, kTcp, syn(t_.a4, fe4, 43000, 80, kTcpAck)));
  EXPECT_EQ(dst_of(more.out, false), remote4) << "established connection moved";
  expect_valid(more.out, false, kTcp);
  auto fresh = run_a(from_a(t_.a4, fe4, kTcp, syn(t_.a4, fe4, 43001, 80)));
  EXPECT_EQ(dst_of(fresh.out, false), remote4b) << "new connections use the new slots";

  // Backend 1 gone for good: its connection has to go somewhere alive.
  lb_->remove_backend(1);
  auto after = run_a(from_a(t_.a4, fe4, kTcp, syn(t_.a4, fe4, 43000, 80, kTcpAck)));
  EXPECT_EQ(dst_of(after.out, false), remote4b);
}

TEST_F(BpfLbLxcTest, AffinityKeepsOneClientOnOneBackend) {
  for (const auto& fe : {fe4, fe6}) {
    bool v6 = fe.v6;
    const IpAddr& a = a_of(fe);
    lb_->backend(1, v6 ? remote6 : remote4, 8080, kTcp);
    lb_->backend(2, v6 ? remote6b : remote4b, 8080, kTcp);

    // Control: without affinity 32 connections spread over both (all on
    // one would happen with probability 2^-31).
    lb_->service({fe, 80, kTcp}, 20, {1, 2});
    std::set<IpAddr> seen;
    for (uint16_t i = 0; i < 32; ++i)
      seen.insert(dst_of(run_a(from_a(a, fe, kTcp, syn(a, fe, 44000 + i, 80))).out, v6));
    EXPECT_EQ(seen.size(), 2u);

    lb_->service({fe, 80, kTcp}, 20, {1, 2}, CPP_LB_F_CLUSTERIP | CPP_LB_F_AFFINITY, 300);
    seen.clear();
    for (uint16_t i = 0; i < 32; ++i)
      seen.insert(dst_of(run_a(from_a(a, fe, kTcp, syn(a, fe, 45000 + i, 80))).out, v6));
    EXPECT_EQ(seen.size(), 1u) << "affinity: every connection of one client on one backend";
  }
}

TEST_F(BpfLbLxcTest, MaglevPicksWhatTheTableSays) {
  for (const auto& fe : {fe4, fe6}) {
    bool v6 = fe.v6;
    const IpAddr& a = a_of(fe);
    const IpAddr& be1 = v6 ? remote6 : remote4;
    const IpAddr& be2 = v6 ? remote6b : remote4b;
    lb_->backend(1, be1, 8080, kTcp);
    lb_->backend(2, be2, 8080, kTcp);
    // Slots name only backend 1: whatever reaches backend 2 came from the table.
    lb_->service({fe, 80, kTcp}, 30, {1}, CPP_LB_F_CLUSTERIP | CPP_LB_F_MAGLEV);
    std::vector<uint32_t> table(CPP_LB_MAGLEV_M);
    for (size_t i = 0; i < table.size(); ++i) table[i] = (i % 3 == 0) ? 1 : 2;
    lb_->maglev(30, table);

    int to2 = 0;
    for (uint16_t i = 0; i < 24; ++i) {
      uint16_t sp = static_cast<uint16_t>(46000 + i);
      uint32_t want = table[lb_tuple_hash(a, fe, sp, 80, kTcp) % CPP_LB_MAGLEV_M];
      auto r = run_a(from_a(a, fe, kTcp, syn(a, fe, sp, 80)));
      EXPECT_EQ(dst_of(r.out, v6), want == 1 ? be1 : be2) << "sport " << sp;
      to2 += want == 2;
    }
    EXPECT_GT(to2, 0);
  }
}

TEST_F(BpfLbLxcTest, NoBackendIsAnsweredWithIcmpPortUnreachable) {
  lb_->service({fe4, 80, kTcp}, 40, {});
  auto req = from_a(t_.a4, fe4, kTcp, syn(t_.a4, fe4, 47000, 80));
  auto r = run_a(req);
  ASSERT_EQ(r.verdict, kTcActRedirect) << "bounced back into the pod";
  const size_t quote = kIp4 + 8;
  ASSERT_EQ(r.out.size(), kEth + kIp4 + 8 + quote);
  EXPECT_EQ(mac_at(r.out, 0), t_.a_mac);
  EXPECT_EQ(mac_at(r.out, 6), t_.a_lxc_mac);
  EXPECT_EQ(be16(r.out, 12), 0x0800);
  EXPECT_EQ(r.out[kEth], 0x45);
  EXPECT_EQ(be16(r.out, kEth + 2), kIp4 + 8 + quote);
  EXPECT_EQ(r.out[kEth + 9], 1) << "ICMP";
  EXPECT_EQ(src_of(r.out, false), fe4);
  EXPECT_EQ(dst_of(r.out, false), t_.a4);
  EXPECT_EQ(ipv4_header_csum(&r.out[kEth], kIp4), 0);
  const uint8_t* icmp = &r.out[kEth + kIp4];
  EXPECT_EQ(icmp[0], 3);
  EXPECT_EQ(icmp[1], 3);
  EXPECT_EQ(csum_finish(csum_add(0, icmp, 8 + quote)), 0) << "ICMP checksum";
  EXPECT_TRUE(std::equal(req.begin() + kEth, req.begin() + kEth + quote, icmp + 8))
      << "quotes the original header and 8 bytes";
  auto evs = events();
  ASSERT_EQ(evs.size(), 1u);
  EXPECT_EQ(evs[0].reason, CPP_DROP_NO_SERVICE);
}

TEST_F(BpfLbLxcTest, NoBackendIsAnsweredWithIcmpv6PortUnreachable) {
  lb_->service({fe6, 53, kUdp}, 41, {});
  for (size_t payload : {size_t{5}, size_t{1400}}) {
    auto req = from_a(t_.a6, fe6, kUdp, udp_dgram(t_.a6, fe6, 47001, 53, std::string(payload, 'x')));
    auto r = run_a(req);
    ASSERT_EQ(r.verdict, kTcActRedirect);
    size_t quote = std::min(req.size() - kEth, size_t{1280 - kIp6 - 8});
    ASSERT_EQ(r.out.size(), kEth + kIp6 + 8 + quote) << "payload " << payload;
    EXPECT_LE(r.out.size() - kEth, 1280u);
    EXPECT_EQ(mac_at(r.out, 0), t_.a_mac);
    EXPECT_EQ(be16(r.out, 12), 0x86dd);
    EXPECT_EQ(r.out[kEth] >> 4, 6);
    EXPECT_EQ(be16(r.out, kEth + 4), 8 + quote);
    EXPECT_EQ(r.out[kEth + 6], 58);
    EXPECT_EQ(src_of(r.out, true), fe6);
    EXPECT_EQ(dst_of(r.out, true), t_.a6);
    const uint8_t* icmp = &r.out[kEth + kIp6];
    EXPECT_EQ(icmp[0], 1);
    EXPECT_EQ(icmp[1], 4);
    EXPECT_EQ(ipv6_l4_csum(fe6, t_.a6, 58, icmp, 8 + quote), 0) << "ICMPv6 checksum";
    EXPECT_TRUE(std::equal(req.begin() + kEth, req.begin() + kEth + quote, icmp + 8));
  }
}

TEST_F(BpfLbLxcTest, DropModeDropsWithAnEvent) {
  load(false);
  lb_->service({fe4, 80, kTcp}, 40, {});
  lb_->service({fe6, 80, kTcp}, 42, {});
  for (const auto& fe : {fe4, fe6}) {
    const IpAddr& a = a_of(fe);
    auto r = run_a(from_a(a, fe, kTcp, syn(a, fe, 47100, 80)));
    EXPECT_EQ(r.verdict, kTcActShot);
    auto evs = events();
    ASSERT_EQ(evs.size(), 1u);
    EXPECT_EQ(evs[0].type, CPP_EVENT_DROP);
    EXPECT_EQ(evs[0].reason, CPP_DROP_NO_SERVICE);
    EXPECT_EQ(evs[0].ep_id, kEpA);
    EXPECT_EQ(evs[0].daddr, fe);
    EXPECT_EQ(evs[0].dport, 80);
  }
}

TEST_F(BpfLbLxcTest, ReplyToAnExternalClientLeavesThroughItsDevice) {
  IpAddr client = t_.world4, node = ip("192.168.1.1");
  // What bpf_netdev records for a NodePort request it sent to pod B.
  lb_->rev4(t_.b4, 8080, client, 5555, kTcp, node, 30080, CPP_LB_CT_F_EXTERNAL, 77);
  auto r = run_b(from_b(t_.b4, client, kTcp, syn(t_.b4, client, 8080, 5555, kTcpSyn | kTcpAck)));
  EXPECT_EQ(r.verdict, kTcActRedirect) << "redirect_neigh out of the native device";
  EXPECT_EQ(src_of(r.out, false), node);
  EXPECT_EQ(sport_of(r.out, false), 30080);
  expect_valid(r.out, false, kTcp);
}

// The events of a packet bpf_lxc translated (policy verdict after DNAT,
// trace) carry the frontend it was sent to; the next, untranslated packet
// of the same program run again carries none.
TEST_F(BpfLbLxcTest, EventsOfATranslatedPacketNameTheFrontend) {
  datapath::PolicyMap policy(pin_.path());
  auto a_info = t_.info_a();
  a_info.flags = CPP_EP_F_ENFORCE_EGRESS;
  for (const auto& fe : {fe4, fe6}) {
    SCOPED_TRACE(fe.str());
    const IpAddr& a = a_of(fe);
    const IpAddr& b = b_of(fe);
    eps_->upsert(a, a_info);
    policy.upsert(datapath::PolicyKey{kEpA, CPP_DIR_EGRESS, kTcp, 0, 8080}, datapath::PolicyEntry{false, 0, 9});
    lb_->backend(5, b, 8080, kTcp);
    lb_->service({fe, 80, kTcp}, 13, {5});
    events();

    ASSERT_EQ(run_a(from_a(a, fe, kTcp, syn(a, fe, 42000, 80))).verdict, kTcActRedirect);
    auto evs = events();
    ASSERT_EQ(evs.size(), 2u);
    EXPECT_EQ(evs[0].type, CPP_EVENT_POLICY_VERDICT);
    EXPECT_EQ(evs[0].verdict, CPP_VERDICT_ALLOWED);
    EXPECT_EQ(evs[0].cookie, 9u);
    EXPECT_EQ(evs[1].type, CPP_EVENT_TRACE);
    EXPECT_EQ(evs[1].obs_point, CPP_OBS_TO_ENDPOINT);
    EXPECT_EQ(evs[1].ep_id, kEpB);
    for (const auto& e : evs) {
      EXPECT_TRUE(e.xlated());
      EXPECT_EQ(e.daddr, b) << "the backend";
      EXPECT_EQ(e.dport, 8080);
      EXPECT_EQ(e.orig_daddr, fe) << "the frontend";
      EXPECT_EQ(e.orig_dport, 80);
    }
    // Established: no events at the default aggregation.
    ASSERT_EQ(run_a(from_a(a, fe, kTcp, syn(a, fe, 42000, 80, kTcpAck))).verdict, kTcActRedirect);
    EXPECT_TRUE(events().empty());
    // Straight to the backend's address: not translated, not marked.
    ASSERT_EQ(run_a(from_a(a, b, kTcp, syn(a, b, 42001, 8080))).verdict, kTcActRedirect);
    evs = events();
    ASSERT_EQ(evs.size(), 2u);
    for (const auto& e : evs) EXPECT_FALSE(e.xlated());
  }
}

// ns/packet of an established connection to a ClusterIP and of traffic to
// no service, with 1 and with 10,000 services installed, and the latter
// with ENABLE_LB off. Prints; asserts only the verdicts (timings depend on
// the machine).
TEST_F(BpfLbLxcTest, CostPerPacket) {
  auto per_packet = [&](const Bytes& pkt) {
    Bytes out(pkt.size() + 256);
    bpf_test_run_opts o{};
    o.sz = sizeof(o);
    o.data_in = pkt.data();
    o.data_size_in = static_cast<uint32_t>(pkt.size());
    o.data_out = out.data();
    o.data_size_out = static_cast<uint32_t>(out.size());
    o.repeat = 200000;
    EXPECT_EQ(bpf_prog_test_run_opts(lxc_a_->fd(), &o), 0);
    EXPECT_EQ(o.retval, static_cast<uint32_t>(kTcActOk));
    return o.duration;
  };
  lb_->backend(1, remote4, 8080, kTcp);
  lb_->service({fe4, 80, kTcp}, 10, {1});
  auto svc = from_a(t_.a4, fe4, kTcp, syn(t_.a4, fe4, 48000, 80, kTcpAck));
  auto plain = from_a(t_.a4, remote4b, kTcp, syn(t_.a4, remote4b, 48001, 80, kTcpAck));
  ASSERT_EQ(run_a(from_a(t_.a4, fe4, kTcp, syn(t_.a4, fe4, 48000, 80))).verdict, kTcActOk);
  uint32_t svc1 = per_packet(svc), plain1 = per_packet(plain);
  for (uint32_t i = 0; i < 10000; ++i)
    lb_->service({ip("10.97.0.0").offset(i), 80, kTcp}, static_cast<uint16_t>(100 + i), {1});
  uint32_t svc10k = per_packet(svc), plain10k = per_packet(plain);
  load(true, false);
  uint32_t plain_off = per_packet(plain);
  std::printf("established ClusterIP packet: %u ns (1 service), %u ns (10,001 services)\n"
              "packet to no service:         %u ns (1 service), %u ns (10,001 services), "
              "%u ns without kube-proxy replacement\n",
              svc1, svc10k, plain1, plain10k, plain_off);

  auto t0 = std::chrono::steady_clock::now();
  load(true);
  auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  std::printf("loading two bpf_lxc and one bpf_host with ENABLE_LB: %.1f ms\n", ms);
}

}  // namespace
}  // namespace cpp::bpftest
