// Packet tests for bpf_netdev (masquerading on the native device):
// cil_to_netdev SNATs pod -> world to the node's address, cil_from_netdev
// translates the answers back. Checksums are verified by recomputing them
// independently (test_util.cpp), never by trusting the helpers.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <time.h>

#include <algorithm>
#include <optional>

#include "datapath/ipcache_map.h"
#include "datapath/nat_consts.h"
#include "datapath/nat_map.h"
#include "datapath/pinned_map.h"
#include "datapath/program_netdev.h"
#include "fixture.h"

namespace cpp::bpftest {
namespace {

constexpr uint8_t kIcmp = 1, kTcp = 6, kUdp = 17, kIcmp6 = 58;
constexpr size_t kL3 = 14;

uint64_t mono_now() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

class BpfNatTest : public DatapathFixture {
 protected:
  void SetUp() override {
    DatapathFixture::SetUp();
    for (const auto& a : {t_.a4, t_.a6}) eps_->upsert(a, t_.info_a());
    ipc_.emplace(pin_.path());
    load(nat_consts());
  }

  datapath::NatConsts nat_consts() const {
    datapath::NatConsts n;
    n.ipv4 = node4_;
    n.ipv6 = node6_;
    return n;
  }
  void load(const datapath::NatConsts& n) {
    prog_.reset();
    prog_.emplace(datapath::load_netdev_object(pin_.path(), t_.node(), n));
  }
  RunResult egress(const Bytes& pkt) { return test_run(prog_->to_netdev.fd(), pkt); }
  RunResult ingress(const Bytes& pkt) { return test_run(prog_->from_netdev_fd, pkt); }

  // Frames on the underlay: from the node's device to its gateway and back.
  Bytes out(const IpAddr& s, const IpAddr& d, uint8_t proto, const Bytes& l4) {
    return s.v6 ? ipv6_packet(gw_mac_, dev_mac_, s, d, proto, l4, 63)
                : ipv4_packet(gw_mac_, dev_mac_, s, d, proto, l4, 63);
  }
  Bytes in(const IpAddr& s, const IpAddr& d, uint8_t proto, const Bytes& l4) {
    return s.v6 ? ipv6_packet(dev_mac_, gw_mac_, s, d, proto, l4)
                : ipv4_packet(dev_mac_, gw_mac_, s, d, proto, l4);
  }
  static Bytes tcp(const IpAddr& s, const IpAddr& d, uint16_t sp, uint16_t dp, uint8_t flags) {
    return tcp_segment(s, d, sp, dp, flags);
  }

  // Addresses and ports of a frame, and whether all its checksums hold.
  struct Seen {
    IpAddr src, dst;
    uint16_t sport = 0, dport = 0;  // ICMP echo: the identifier in both
    bool csum_ok = false;
  };
  static Seen parse(const Bytes& f) {
    Seen s;
    bool v6 = be16(f, 12) == 0x86dd;
    size_t l4 = v6 ? kL3 + 40 : kL3 + 20;
    uint8_t proto = v6 ? f[kL3 + 6] : f[kL3 + 9];
    s.src = v6 ? ip6_at(f, kL3 + 8) : ip4_at(f, kL3 + 12);
    s.dst = v6 ? ip6_at(f, kL3 + 24) : ip4_at(f, kL3 + 16);
    const uint8_t* p = f.data() + l4;
    size_t len = f.size() - l4;
    if (proto == kIcmp || proto == kIcmp6) {
      s.sport = s.dport = be16(f, l4 + 4);
    } else {
      s.sport = be16(f, l4);
      s.dport = be16(f, l4 + 2);
    }
    bool l3_ok = v6 || ipv4_header_csum(f.data() + kL3, 20) == 0;
    bool l4_ok;
    if (proto == kIcmp)
      l4_ok = csum_finish(csum_add(0, p, len)) == 0;
    else if (v6)
      l4_ok = ipv6_l4_csum(s.src, s.dst, proto, p, len) == 0;
    else
      l4_ok = ipv4_l4_csum(s.src, s.dst, proto, p, len) == 0;
    s.csum_ok = l3_ok && l4_ok;
    return s;
  }

  // Pod (src:sport) -> world (dst:dport) leaves masqueraded; the answer
  // comes back to the pod. Returns the node port used.
  uint16_t round_trip(const IpAddr& pod, const IpAddr& world, uint8_t proto, uint16_t sport,
                      uint16_t dport) {
    const IpAddr& node = pod.v6 ? node6_ : node4_;
    Bytes req, l4;
    if (proto == kTcp) l4 = tcp(pod, world, sport, dport, kTcpSyn);
    if (proto == kUdp) l4 = udp_dgram(pod, world, sport, dport, "query");
    if (proto == kIcmp) l4 = icmp4_echo(sport, 1);
    if (proto == kIcmp6) l4 = icmp6_echo(pod, world, sport, 1);
    req = out(pod, world, proto, l4);
    auto r = egress(req);
    EXPECT_EQ(r.verdict, kTcActOk);
    if (r.verdict != kTcActOk) return 0;
    auto s = parse(r.out);
    EXPECT_EQ(s.src, node);
    EXPECT_EQ(s.dst, world);
    EXPECT_TRUE(s.csum_ok) << "SNATed packet has a bad checksum";
    if (proto == kTcp || proto == kUdp) {
      EXPECT_EQ(s.dport, dport);
    }
    EXPECT_EQ(r.out.size(), req.size());
    uint16_t port = s.sport;

    Bytes ans;
    if (proto == kTcp) ans = tcp(world, node, dport, port, kTcpSyn | kTcpAck);
    if (proto == kUdp) ans = udp_dgram(world, node, dport, port, "answer");
    if (proto == kIcmp) ans = icmp4_echo(port, 1, true);
    if (proto == kIcmp6) ans = icmp6_echo(world, node, port, 1, true);
    auto a = ingress(in(world, node, proto, ans));
    EXPECT_EQ(a.verdict, kTcActOk);
    auto t = parse(a.out);
    EXPECT_EQ(t.src, world);
    EXPECT_EQ(t.dst, pod) << "answer not translated back to the pod";
    EXPECT_EQ(t.dport, sport);
    if (proto == kTcp || proto == kUdp) {
      EXPECT_EQ(t.sport, dport);
    }
    EXPECT_TRUE(t.csum_ok) << "reverse-NATed packet has a bad checksum";
    return port;
  }

  void expect_untouched_egress(const Bytes& f) {
    auto r = egress(f);
    EXPECT_EQ(r.verdict, kTcActOk);
    EXPECT_EQ(r.out, f);
  }

  void ipcache(const IpPrefix& p, uint32_t id) {
    cpp_ipcache_value v{};
    v.sec_identity = id;
    ipc_->upsert(p, v);
  }

  IpAddr node4_ = ip("192.0.2.1"), node6_ = ip("2001:db8::1");
  MacAddr dev_mac_{0x02, 0xdd, 0, 0, 0, 1}, gw_mac_{0x02, 0xee, 0, 0, 0, 1};
  std::optional<datapath::IpcacheMap> ipc_;
  std::optional<datapath::NetdevPrograms> prog_;
};

TEST_F(BpfNatTest, Ipv4TcpUdpIcmpAreMasqueradedAndTranslatedBack) {
  EXPECT_EQ(round_trip(t_.a4, t_.world4, kTcp, 40000, 80), 40000) << "free source port is kept";
  EXPECT_EQ(round_trip(t_.a4, t_.world4, kUdp, 40001, 53), 40001);
  EXPECT_EQ(round_trip(t_.a4, t_.world4, kIcmp, 777, 0), 777);
}

TEST_F(BpfNatTest, Ipv6TcpUdpIcmpAreMasqueradedAndTranslatedBack) {
  EXPECT_EQ(round_trip(t_.a6, t_.world6, kTcp, 40000, 80), 40000);
  EXPECT_EQ(round_trip(t_.a6, t_.world6, kUdp, 40001, 53), 40001);
  EXPECT_EQ(round_trip(t_.a6, t_.world6, kIcmp6, 777, 0), 777);
}

TEST_F(BpfNatTest, LaterPacketsOfAFlowUseTheSameMapping) {
  auto port = round_trip(t_.a4, t_.world4, kTcp, 40000, 80);
  auto r = egress(out(t_.a4, t_.world4, kTcp, tcp(t_.a4, t_.world4, 40000, 80, kTcpAck)));
  ASSERT_EQ(r.verdict, kTcActOk);
  EXPECT_EQ(parse(r.out).sport, port);
  EXPECT_EQ(parse(r.out).src, node4_);
}

TEST_F(BpfNatTest, AnEvictedReplyEntryIsRestoredByTheFlow) {
  auto port = round_trip(t_.a4, t_.world4, kTcp, 40000, 80);
  // The LRU dropped the INGRESS entry: answers would go to the node.
  datapath::PinnedMap m(pin_.path() + "/" CPP_MAP_SNAT4, sizeof(cpp_nat_key4), sizeof(cpp_nat_value));
  cpp_nat_key4 k{};
  std::memcpy(&k.saddr, t_.world4.bytes.data(), 4);
  std::memcpy(&k.daddr, node4_.bytes.data(), 4);
  k.sport = htons(80);
  k.dport = htons(port);
  k.nexthdr = kTcp;
  k.dir = CPP_NAT_INGRESS;
  ASSERT_TRUE(m.remove(&k));
  auto ans = in(t_.world4, node4_, kTcp, tcp(t_.world4, node4_, 80, port, kTcpAck));
  EXPECT_EQ(parse(ingress(ans).out).dst, node4_) << "precondition: the answer is not translated";
  // The pod's next segment moves its entry's deadline (SYN-only -> established).
  egress(out(t_.a4, t_.world4, kTcp, tcp(t_.a4, t_.world4, 40000, 80, kTcpAck)));
  EXPECT_EQ(parse(ingress(ans).out).dst, t_.a4) << "the reply entry was not restored";
}

TEST_F(BpfNatTest, PortCollisionPicksAnotherPortAndBothTranslateBack) {
  EXPECT_EQ(round_trip(t_.a4, t_.world4, kTcp, 40000, 80), 40000);
  uint16_t b = round_trip(t_.b4, t_.world4, kTcp, 40000, 80);
  EXPECT_NE(b, 40000);
  EXPECT_GE(b, 32768);
  EXPECT_LE(b, 60999);
  // Pod A's mapping still answers to A.
  auto a = ingress(in(t_.world4, node4_, kTcp, tcp(t_.world4, node4_, 80, 40000, kTcpAck)));
  EXPECT_EQ(parse(a.out).dst, t_.a4);
  // Another world port is another peer: the original port is free there.
  EXPECT_EQ(round_trip(t_.b4, t_.world4, kTcp, 40000, 81), 40000);
  // IPv6 too.
  EXPECT_EQ(round_trip(t_.a6, t_.world6, kUdp, 5000, 53), 5000);
  uint16_t b6 = round_trip(t_.b6, t_.world6, kUdp, 5000, 53);
  EXPECT_NE(b6, 5000);
}

TEST_F(BpfNatTest, TheConfiguredPortRangeIsUsed) {
  auto n = nat_consts();
  n.port_min = 50000;
  n.port_max = 50003;
  load(n);
  EXPECT_EQ(round_trip(t_.a4, t_.world4, kUdp, 7000, 53), 7000);
  uint16_t b = round_trip(t_.b4, t_.world4, kUdp, 7000, 53);
  EXPECT_GE(b, 50000);
  EXPECT_LE(b, 50003);
}

TEST_F(BpfNatTest, ExpiredHolderFreesItsPortAliveHolderDoesNot) {
  datapath::PinnedMap m(pin_.path() + "/" CPP_MAP_SNAT4, sizeof(cpp_nat_key4), sizeof(cpp_nat_value));
  // Pod B held node port 40000 towards world:80 (ingress entry only).
  cpp_nat_key4 k{};
  std::memcpy(&k.saddr, t_.world4.bytes.data(), 4);
  std::memcpy(&k.daddr, node4_.bytes.data(), 4);
  k.sport = htons(80);
  k.dport = htons(40000);
  k.nexthdr = kTcp;
  k.dir = CPP_NAT_INGRESS;
  cpp_nat_value v{};
  std::memcpy(&v.to_addr, t_.b4.bytes.data(), 4);
  v.to_port = htons(41000);
  v.expires_ns = mono_now() + 60ull * 1000000000ull;
  m.update(&k, &v);
  EXPECT_NE(round_trip(t_.a4, t_.world4, kTcp, 40000, 80), 40000) << "alive holder lost its port";

  k.sport = htons(81);
  v.expires_ns = 1;  // long gone, and no egress entry of B alive
  m.update(&k, &v);
  EXPECT_EQ(round_trip(t_.a4, t_.world4, kTcp, 40000, 81), 40000) << "dead holder kept its port";
}

TEST_F(BpfNatTest, ClusterDestinationsAreNotMasqueraded) {
  auto remote_pod = ip("10.233.65.5"), remote_node = ip("192.0.2.2"), native = ip("10.1.2.3");
  ipcache(IpPrefix{remote_pod, 32}, 1000);
  ipcache(IpPrefix{remote_node, 32}, CPP_ID_REMOTE_NODE);
  ipcache(IpPrefix{node4_, 32}, CPP_ID_HOST);
  for (const auto& d : {remote_pod, remote_node, node4_})
    expect_untouched_egress(out(t_.a4, d, kTcp, tcp(t_.a4, d, 40000, 80, kTcpSyn)));
  // Outside the cluster by identity: world and CIDR identities.
  ipcache(IpPrefix{ip("198.51.100.0"), 24}, CPP_ID_LOCAL_SCOPE | 5);
  EXPECT_EQ(round_trip(t_.a4, ip("198.51.100.9"), kTcp, 40000, 80), 40000);
  ipcache(IpPrefix{ip("198.51.100.9"), 32}, CPP_ID_WORLD);
  EXPECT_EQ(parse(egress(out(t_.a4, ip("198.51.100.9"), kUdp,
                             udp_dgram(t_.a4, ip("198.51.100.9"), 1, 2, "x"))).out).src,
            node4_);

  // The native-routing CIDR is never masqueraded, whatever the ipcache says.
  auto n = nat_consts();
  n.native_cidr4 = IpPrefix::parse("10.0.0.0/8");
  n.native_cidr6 = IpPrefix::parse("fd00::/8");
  load(n);
  expect_untouched_egress(out(t_.a4, native, kTcp, tcp(t_.a4, native, 40000, 80, kTcpSyn)));
  auto native6 = ip("fd12::3");
  expect_untouched_egress(out(t_.a6, native6, kTcp, tcp(t_.a6, native6, 40000, 80, kTcpSyn)));
  EXPECT_EQ(round_trip(t_.a4, t_.world4, kTcp, 40002, 80), 40002);
}

TEST_F(BpfNatTest, NodeAndUnknownSourcesAreNotMasqueraded) {
  // The node's own traffic, the router address (CPP_EP_F_HOST), an address
  // no endpoint has, and VXLAN (outer source = the node).
  for (const auto& s : {node4_, t_.router4, ip("10.233.64.99")})
    expect_untouched_egress(out(s, t_.world4, kTcp, tcp(s, t_.world4, 40000, 80, kTcpSyn)));
  for (const auto& s : {node6_, t_.router6, ip("fd00:cafe::99")})
    expect_untouched_egress(out(s, t_.world6, kTcp, tcp(s, t_.world6, 40000, 80, kTcpSyn)));
  expect_untouched_egress(out(node4_, ip("192.0.2.2"), kUdp, udp_dgram(node4_, ip("192.0.2.2"), 40000, 8472, "vxlan")));
  EXPECT_EQ(datapath::NatMaps(pin_.path()).count(), 0u);
}

TEST_F(BpfNatTest, NodeFlowsAreRemappedOnlyWhenAPodFlowHoldsTheirPort) {
  EXPECT_EQ(round_trip(t_.a4, t_.world4, kTcp, 40000, 80), 40000);
  // The node's own connection from port 40000 to another peer port: no
  // collision, untouched.
  expect_untouched_egress(out(node4_, t_.world4, kTcp, tcp(node4_, t_.world4, 40000, 81, kTcpSyn)));
  // To the same peer port: pod A's flow holds node port 40000 there.
  auto r = egress(out(node4_, t_.world4, kTcp, tcp(node4_, t_.world4, 40000, 80, kTcpSyn)));
  ASSERT_EQ(r.verdict, kTcActOk);
  auto s = parse(r.out);
  EXPECT_EQ(s.src, node4_);
  EXPECT_NE(s.sport, 40000);
  EXPECT_GE(s.sport, 32768);
  EXPECT_TRUE(s.csum_ok);
  // Its answers come back to the node's own port; pod A's still go to pod A.
  auto mine = parse(ingress(in(t_.world4, node4_, kTcp, tcp(t_.world4, node4_, 80, s.sport, kTcpSyn | kTcpAck))).out);
  EXPECT_EQ(mine.dst, node4_);
  EXPECT_EQ(mine.dport, 40000);
  EXPECT_TRUE(mine.csum_ok);
  EXPECT_EQ(parse(ingress(in(t_.world4, node4_, kTcp, tcp(t_.world4, node4_, 80, 40000, kTcpAck))).out).dst, t_.a4);
  // Later packets of the node's flow keep the remapping.
  EXPECT_EQ(parse(egress(out(node4_, t_.world4, kTcp, tcp(node4_, t_.world4, 40000, 80, kTcpAck))).out).sport, s.sport);

  // IPv6, UDP.
  EXPECT_EQ(round_trip(t_.a6, t_.world6, kUdp, 5000, 53), 5000);
  auto r6 = egress(out(node6_, t_.world6, kUdp, udp_dgram(node6_, t_.world6, 5000, 53, "q")));
  auto s6 = parse(r6.out);
  EXPECT_EQ(s6.src, node6_);
  EXPECT_NE(s6.sport, 5000);
  EXPECT_TRUE(s6.csum_ok);
  auto back6 = parse(ingress(in(t_.world6, node6_, kUdp, udp_dgram(t_.world6, node6_, 53, s6.sport, "a"))).out);
  EXPECT_EQ(back6.dst, node6_);
  EXPECT_EQ(back6.dport, 5000);
  EXPECT_TRUE(back6.csum_ok);
}

TEST_F(BpfNatTest, AnswersOfConnectionsFromTheWorldKeepThePodAddress) {
  // bpf_host recorded the world's connection to pod A (pod A's ingress).
  datapath::PinnedMap ct(pin_.path() + "/" CPP_MAP_CT4, sizeof(cpp_ct_key4), sizeof(cpp_ct_value));
  cpp_ct_key4 k{};
  std::memcpy(&k.saddr, t_.world4.bytes.data(), 4);
  std::memcpy(&k.daddr, t_.a4.bytes.data(), 4);
  k.sport = htons(5555);
  k.dport = htons(8080);
  k.nexthdr = kTcp;
  k.dir = CPP_CT_INGRESS;
  cpp_ct_value v{};
  v.expires_ns = mono_now() + 60ull * 1000000000ull;
  ct.update(&k, &v);
  expect_untouched_egress(out(t_.a4, t_.world4, kTcp, tcp(t_.a4, t_.world4, 8080, 5555, kTcpSyn | kTcpAck)));
  EXPECT_EQ(datapath::NatMaps(pin_.path()).count(), 0u);
}

TEST_F(BpfNatTest, InboundTrafficWithoutMappingPassesUntouched) {
  for (auto proto : {kTcp, kUdp}) {
    Bytes l4 = proto == kTcp ? tcp(t_.world4, node4_, 5555, 22, kTcpSyn)
                             : udp_dgram(t_.world4, node4_, 5555, 53, "q");
    auto f = in(t_.world4, node4_, proto, l4);
    auto r = ingress(f);
    EXPECT_EQ(r.verdict, kTcActOk);
    EXPECT_EQ(r.out, f);
  }
  auto f6 = in(t_.world6, node6_, kIcmp6, icmp6_echo(t_.world6, node6_, 9, 1, true));
  EXPECT_EQ(ingress(f6).out, f6);
  // Pod traffic routed in directly (not to the node address) is not ours.
  auto direct = in(t_.world4, t_.a4, kTcp, tcp(t_.world4, t_.a4, 5555, 8080, kTcpSyn));
  EXPECT_EQ(ingress(direct).out, direct);
}

TEST_F(BpfNatTest, IcmpErrorsAboutMasqueradedFlowsAreTranslatedBothWays) {
  // Pod B's flow got another node port than its own (pod A holds 40000).
  round_trip(t_.a4, t_.world4, kUdp, 40000, 53);
  uint16_t p4 = round_trip(t_.b4, t_.world4, kUdp, 40000, 53);
  round_trip(t_.a6, t_.world6, kUdp, 40000, 53);
  uint16_t p6 = round_trip(t_.b6, t_.world6, kUdp, 40000, 53);
  ASSERT_NE(p4, 40000);
  ASSERT_NE(p6, 40000);

  // IPv4 port unreachable quoting the packet as it left (node:p4 -> world:53).
  Bytes left = out(node4_, t_.world4, kUdp, udp_dgram(node4_, t_.world4, p4, 53, "query"));
  Bytes quote(left.begin() + kL3, left.begin() + kL3 + 28);
  auto r = ingress(in(t_.world4, node4_, kIcmp, icmp4_msg(3, 3, 0, quote)));
  ASSERT_EQ(r.verdict, kTcActOk);
  const size_t q = kL3 + 20 + 8;
  EXPECT_EQ(ip4_at(r.out, kL3 + 16), t_.b4) << "outer destination";
  EXPECT_EQ(ip4_at(r.out, q + 12), t_.b4) << "quoted source";
  EXPECT_EQ(be16(r.out, q + 20), 40000) << "quoted source port";
  EXPECT_EQ(ipv4_header_csum(r.out.data() + kL3, 20), 0) << "outer header checksum";
  EXPECT_EQ(ipv4_header_csum(r.out.data() + q, 20), 0) << "quoted header checksum";
  EXPECT_EQ(csum_finish(csum_add(0, r.out.data() + kL3 + 20, r.out.size() - kL3 - 20)), 0)
      << "ICMP checksum";

  // IPv6 packet too big.
  Bytes left6 = out(node6_, t_.world6, kUdp, udp_dgram(node6_, t_.world6, p6, 53, "query"));
  Bytes quote6(left6.begin() + kL3, left6.begin() + kL3 + 48);
  auto r6 = ingress(in(t_.world6, node6_, kIcmp6, icmp6_msg(t_.world6, node6_, 2, 0, 1280, quote6)));
  ASSERT_EQ(r6.verdict, kTcActOk);
  const size_t q6 = kL3 + 40 + 8;
  EXPECT_EQ(ip6_at(r6.out, kL3 + 24), t_.b6);
  EXPECT_EQ(ip6_at(r6.out, q6 + 8), t_.b6);
  EXPECT_EQ(be16(r6.out, q6 + 40), 40000);
  EXPECT_EQ(ipv6_l4_csum(t_.world6, t_.b6, kIcmp6, r6.out.data() + kL3 + 40, r6.out.size() - kL3 - 40), 0)
      << "ICMPv6 checksum";

  // Outbound: pod B's port unreachable about an answer it got (quoting
  // world:53 -> b:40000) leaves as the node's, about node:p4.
  Bytes got = in(t_.world4, t_.b4, kUdp, udp_dgram(t_.world4, t_.b4, 53, 40000, "answer"));
  auto o = egress(out(t_.b4, t_.world4, kIcmp, icmp4_msg(3, 3, 0, Bytes(got.begin() + kL3, got.begin() + kL3 + 28))));
  ASSERT_EQ(o.verdict, kTcActOk);
  EXPECT_EQ(ip4_at(o.out, kL3 + 12), node4_) << "outer source";
  EXPECT_EQ(ip4_at(o.out, q + 16), node4_) << "quoted destination";
  EXPECT_EQ(be16(o.out, q + 22), p4) << "quoted destination port";
  EXPECT_EQ(ipv4_header_csum(o.out.data() + kL3, 20), 0);
  EXPECT_EQ(ipv4_header_csum(o.out.data() + q, 20), 0);
  EXPECT_EQ(csum_finish(csum_add(0, o.out.data() + kL3 + 20, o.out.size() - kL3 - 20)), 0);
  Bytes got6 = in(t_.world6, t_.b6, kUdp, udp_dgram(t_.world6, t_.b6, 53, 40000, "answer"));
  auto o6 = egress(out(t_.b6, t_.world6, kIcmp6,
                       icmp6_msg(t_.b6, t_.world6, 1, 4, 0, Bytes(got6.begin() + kL3, got6.begin() + kL3 + 48))));
  ASSERT_EQ(o6.verdict, kTcActOk);
  EXPECT_EQ(ip6_at(o6.out, kL3 + 8), node6_);
  EXPECT_EQ(ip6_at(o6.out, q6 + 24), node6_);
  EXPECT_EQ(be16(o6.out, q6 + 42), p6);
  EXPECT_EQ(ipv6_l4_csum(node6_, t_.world6, kIcmp6, o6.out.data() + kL3 + 40, o6.out.size() - kL3 - 40), 0);

  // An error about a flow that is not ours (the node's own) is not touched.
  Bytes mine = out(node4_, t_.world4, kUdp, udp_dgram(node4_, t_.world4, 33333, 53, "query"));
  auto err = in(t_.world4, node4_, kIcmp, icmp4_msg(3, 3, 0, Bytes(mine.begin() + kL3, mine.begin() + kL3 + 28)));
  EXPECT_EQ(ingress(err).out, err);
}

TEST_F(BpfNatTest, UnsupportedProtocolToTheWorldIsDropped) {
  Bytes gre(8, 0);
  EXPECT_EQ(egress(out(t_.a4, t_.world4, 47, gre)).verdict, kTcActShot);
  EXPECT_EQ(egress(out(t_.a6, t_.world6, 47, gre)).verdict, kTcActShot);
  // ICMP errors and echo replies are not translated (and not dropped).
  auto unreach = out(t_.a4, t_.world4, kIcmp, icmp4_msg(3, 3, 0, Bytes(28, 0)));
  expect_untouched_egress(unreach);
}

TEST_F(BpfNatTest, DisabledFamilyIsNotMasqueraded) {
  auto n = nat_consts();
  n.ipv6.reset();
  load(n);
  expect_untouched_egress(out(t_.a6, t_.world6, kTcp, tcp(t_.a6, t_.world6, 40000, 80, kTcpSyn)));
  EXPECT_EQ(round_trip(t_.a4, t_.world4, kTcp, 40000, 80), 40000);
}

TEST_F(BpfNatTest, EntriesAreListedBothWays) {
  round_trip(t_.a4, t_.world4, kTcp, 40000, 80);
  round_trip(t_.a6, t_.world6, kUdp, 5000, 53);
  auto entries = datapath::NatMaps(pin_.path()).dump(false);
  ASSERT_EQ(entries.size(), 4u);
  const auto& out4 = entries[0];
  EXPECT_EQ(out4.dir, CPP_NAT_EGRESS);
  EXPECT_EQ(out4.saddr, t_.a4);
  EXPECT_EQ(out4.to_addr, node4_);
  EXPECT_EQ(out4.to_port, 40000);
  const auto& in4 = entries[1];
  EXPECT_EQ(in4.dir, CPP_NAT_INGRESS);
  EXPECT_EQ(in4.saddr, t_.world4);
  EXPECT_EQ(in4.daddr, node4_);
  EXPECT_EQ(in4.to_addr, t_.a4);
  EXPECT_EQ(in4.flags, 0) << "only a SYN-ACK was seen";
  auto j = datapath::nat_to_json(entries, mono_now());
  EXPECT_EQ(j[0]["direction"], "OUT");
  EXPECT_EQ(j[0]["source"], "10.233.64.10:40000");
  EXPECT_EQ(j[0]["xlate"], "192.0.2.1:40000");
  EXPECT_EQ(j[3]["destination"], "[2001:db8::1]:5000");
  EXPECT_EQ(j[3]["xlate"], "[fd00:cafe::10]:5000");
  auto line = datapath::nat_entry_to_text(entries[0], mono_now());
  EXPECT_EQ(line.rfind("TCP OUT 10.233.64.10:40000 -> 203.0.113.7:80 XLATE_SRC 192.0.2.1:40000 expires ", 0), 0u)
      << line;
}

}  // namespace
}  // namespace cpp::bpftest
