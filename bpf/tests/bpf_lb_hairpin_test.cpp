// Per-packet ClusterIP corner cases in bpf_lxc / bpf_host through
// BPF_PROG_TEST_RUN: hairpin (a pod that is the backend of the service it
// reaches: the request is source-NATed to the service loopback address and
// sent back into the pod, the reply reverse-translated), and ICMP errors
// about translated connections (quoted destination and, from the backend
// itself, outer source put back to the frontend). Checksums are recomputed
// independently (test_util).
#include <gtest/gtest.h>

#include "bpf_lb_fixture.h"

namespace cpp::bpftest {
namespace {

constexpr size_t kEth = 14, kIp4 = 20, kIp6 = 40;
constexpr uint8_t kIcmp = 1, kIcmp6 = 58;

class BpfLbHairpinTest : public LbFixture {
 protected:
  IpAddr fe4 = ip("10.96.0.10"), fe6 = ip("fd00:96::10");
  IpAddr loop4 = ip("169.254.42.1"), loop6 = ip("fe80::1");
  IpAddr router4 = ip("192.0.2.1"), router6 = ip("2001:db8::1");

  static size_t l3(bool v6) { return v6 ? kIp6 : kIp4; }
  const IpAddr& a_of(bool v6) const { return v6 ? t_.a6 : t_.a4; }
  const IpAddr& b_of(bool v6) const { return v6 ? t_.b6 : t_.b4; }
  IpAddr dst_of(const Bytes& p, bool v6) const { return v6 ? ip6_at(p, kEth + 24) : ip4_at(p, kEth + 16); }
  IpAddr src_of(const Bytes& p, bool v6) const { return v6 ? ip6_at(p, kEth + 8) : ip4_at(p, kEth + 12); }
  uint16_t sport_of(const Bytes& p, bool v6) const { return be16(p, kEth + l3(v6)); }
  uint16_t dport_of(const Bytes& p, bool v6) const { return be16(p, kEth + l3(v6) + 2); }

  // The packet's addresses and ports are src:sport -> dst:dport.
  void expect_ends(const Bytes& p, bool v6, const IpAddr& src, uint16_t sport, const IpAddr& dst,
                   uint16_t dport) {
    EXPECT_EQ(src_of(p, v6), src) << "source";
    EXPECT_EQ(sport_of(p, v6), sport) << "source port";
    EXPECT_EQ(dst_of(p, v6), dst) << "destination";
    EXPECT_EQ(dport_of(p, v6), dport) << "destination port";
  }

  // IP header (IPv4) and L4 checksum (TCP/UDP/ICMP/ICMPv6), from scratch.
  void expect_valid(const Bytes& p, bool v6, uint8_t proto) {
    size_t off = kEth + l3(v6);
    IpAddr s = src_of(p, v6), d = dst_of(p, v6);
    if (!v6) EXPECT_EQ(ipv4_header_csum(&p[kEth], kIp4), 0) << "IPv4 header checksum";
    uint16_t c = proto == kIcmp ? csum_finish(csum_add(0, &p[off], p.size() - off))
                 : v6          ? ipv6_l4_csum(s, d, proto, &p[off], p.size() - off)
                               : ipv4_l4_csum(s, d, proto, &p[off], p.size() - off);
    EXPECT_EQ(c, 0) << "L4 checksum";
  }

  // The quote an ICMP error carries about packet p: its IP header and 8
  // bytes of L4 (IPv4), or 48 bytes (IPv6).
  static Bytes quote_of(const Bytes& p, bool v6) {
    return Bytes(p.begin() + kEth, p.begin() + kEth + l3(v6) + 8);
  }
  Bytes icmp_error(const IpAddr& from, const IpAddr& to, const Bytes& quote, bool v6) {
    return v6 ? icmp6_msg(from, to, 1, 4, 0, quote)  // port unreachable
              : icmp4_msg(3, 3, 0, quote);
  }
};

TEST_F(BpfLbHairpinTest, PodReachingItselfIsSentBackFromTheLoopbackAddress) {
  for (bool v6 : {false, true}) {
    const IpAddr& fe = v6 ? fe6 : fe4;
    const IpAddr& lo = v6 ? loop6 : loop4;
    const IpAddr& a = a_of(v6);
    lb_->backend(1, a, 8080, kTcp);
    lb_->service({fe, 80, kTcp}, 10, {1});

    auto req = run_a(from_a(a, fe, kTcp, tcp_segment(a, fe, 41000, 80, kTcpSyn)));
    ASSERT_EQ(req.verdict, kTcActRedirect) << "back into pod A";
    EXPECT_EQ(mac_at(req.out, 0), t_.a_mac) << "to the pod, from its router";
    EXPECT_EQ(mac_at(req.out, 6), t_.a_lxc_mac);
    expect_ends(req.out, v6, lo, 41000, a, 8080);
    expect_valid(req.out, v6, kTcp);

    auto rep = run_a(from_a(a, lo, kTcp, tcp_segment(a, lo, 8080, 41000, kTcpSyn | kTcpAck)));
    ASSERT_EQ(rep.verdict, kTcActRedirect);
    EXPECT_EQ(mac_at(rep.out, 0), t_.a_mac);
    expect_ends(rep.out, v6, fe, 80, a, 41000);
    expect_valid(rep.out, v6, kTcp);

    // The same connection's next segment takes the same way.
    auto ack = run_a(from_a(a, fe, kTcp, tcp_segment(a, fe, 41000, 80, kTcpAck)));
    ASSERT_EQ(ack.verdict, kTcActRedirect);
    EXPECT_EQ(src_of(ack.out, v6), lo);
    expect_valid(ack.out, v6, kTcp);

    // To the loopback address without a hairpin connection: untouched.
    auto other = run_a(from_a(a, lo, kTcp, tcp_segment(a, lo, 8080, 41999, kTcpSyn | kTcpAck)));
    EXPECT_EQ(src_of(other.out, v6), a);
    EXPECT_EQ(dst_of(other.out, v6), lo);
  }
}

TEST_F(BpfLbHairpinTest, BackendsIcmpErrorReachesTheClientAboutTheFrontend) {
  for (bool v6 : {false, true}) {
    const IpAddr& fe = v6 ? fe6 : fe4;
    const IpAddr& a = a_of(v6);
    const IpAddr& b = b_of(v6);
    uint8_t icmp = v6 ? kIcmp6 : kIcmp;
    lb_->backend(2, b, 5353, kUdp);
    lb_->service({fe, 53, kUdp}, 11, {2});

    auto req = run_a(from_a(a, fe, kUdp, udp_dgram(a, fe, 42000, 53, "query")));
    ASSERT_EQ(req.verdict, kTcActRedirect);
    ASSERT_EQ(dst_of(req.out, v6), b);

    // Pod B's kernel: port unreachable, quoting a:42000 -> b:5353.
    auto err = run_b(from_b(b, a, icmp, icmp_error(b, a, quote_of(req.out, v6), v6)));
    ASSERT_EQ(err.verdict, kTcActRedirect) << "delivered to pod A";
    const size_t q = kEth + l3(v6) + 8;
    EXPECT_EQ(src_of(err.out, v6), fe) << "outer source: the backend became the frontend";
    EXPECT_EQ(dst_of(err.out, v6), a);
    EXPECT_EQ(v6 ? ip6_at(err.out, q + 8) : ip4_at(err.out, q + 12), a) << "quoted source";
    EXPECT_EQ(v6 ? ip6_at(err.out, q + 24) : ip4_at(err.out, q + 16), fe) << "quoted destination";
    EXPECT_EQ(be16(err.out, q + l3(v6)), 42000) << "quoted source port";
    EXPECT_EQ(be16(err.out, q + l3(v6) + 2), 53) << "quoted destination port";
    if (!v6) EXPECT_EQ(ipv4_header_csum(&err.out[q], kIp4), 0) << "quoted header checksum";
    expect_valid(err.out, v6, icmp);

    // Not about a translated connection (no REV entry): untouched.
    auto own = run_b(from_b(b, a, kUdp, udp_dgram(b, a, 6000, 42001, "x")));
    auto stray = run_b(from_b(b, a, icmp, icmp_error(b, a, quote_of(own.out, v6), v6)));
    EXPECT_EQ(src_of(stray.out, v6), b);
  }
}

TEST_F(BpfLbHairpinTest, RoutersIcmpErrorKeepsItsSourceAndGetsTheFrontendQuoted) {
  for (bool v6 : {false, true}) {
    const IpAddr& fe = v6 ? fe6 : fe4;
    const IpAddr& a = a_of(v6);
    const IpAddr& be = v6 ? ip("2001:db8:50::1") : ip("192.0.2.50");  // behind the stack
    const IpAddr& router = v6 ? router6 : router4;
    uint8_t icmp = v6 ? kIcmp6 : kIcmp;
    lb_->backend(3, be, 9090, kTcp);
    lb_->service({fe, 90, kTcp}, 12, {3});

    auto req = run_a(from_a(a, fe, kTcp, tcp_segment(a, fe, 43000, 90, kTcpSyn)));
    ASSERT_EQ(req.verdict, kTcActOk);
    ASSERT_EQ(dst_of(req.out, v6), be);

    // Fragmentation needed / packet too big from a router on the way,
    // coming back through bpf_host.
    Bytes body = v6 ? icmp6_msg(router, a, 2, 0, 1280, quote_of(req.out, v6))
                    : icmp4_msg(3, 4, 1400, quote_of(req.out, v6));
    auto err = run_host(from_host(router, a, icmp, body));
    ASSERT_EQ(err.verdict, kTcActRedirect) << "to pod A's lxc";
    const size_t q = kEth + l3(v6) + 8;
    EXPECT_EQ(src_of(err.out, v6), router) << "a router's error keeps its source";
    EXPECT_EQ(v6 ? ip6_at(err.out, q + 24) : ip4_at(err.out, q + 16), fe);
    EXPECT_EQ(be16(err.out, q + l3(v6) + 2), 90);
    if (!v6) EXPECT_EQ(ipv4_header_csum(&err.out[q], kIp4), 0) << "quoted header checksum";
    expect_valid(err.out, v6, icmp);
  }
}

}  // namespace
}  // namespace cpp::bpftest
