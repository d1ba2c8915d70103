// Packet tests for bpf_lxc (cil_from_container) through BPF_PROG_TEST_RUN:
// the program is loaded exactly as the agent loads it (skeleton, rodata
// constants, pinned maps) and fed hand-built frames "sent by pod A".
#include <gtest/gtest.h>

#include "fixture.h"

namespace cpp::bpftest {
namespace {

constexpr size_t kEth = 14, kIp4 = 20, kIp6 = 40;

class BpfLxcTest : public DatapathFixture {
 protected:
  void SetUp() override {
    DatapathFixture::SetUp();
    load(t_.node());
  }
  void load(const datapath::NodeConsts& node) {
    prog_.reset();
    prog_.emplace(datapath::load_lxc_object(pin_.path(), node, t_.pod_a(), t_.a_ifindex));
  }
  RunResult run(const Bytes& pkt) { return test_run(prog_->fd(), pkt); }

  // Pod A's frames go to its router MAC.
  Bytes v4(const IpAddr& src, const IpAddr& dst, uint8_t proto, const Bytes& l4, uint8_t ttl = 64) {
    return ipv4_packet(t_.a_lxc_mac, t_.a_mac, src, dst, proto, l4, ttl);
  }
  Bytes v6(const IpAddr& src, const IpAddr& dst, uint8_t nh, const Bytes& l4, uint8_t hl = 64) {
    return ipv6_packet(t_.a_lxc_mac, t_.a_mac, src, dst, nh, l4, hl);
  }
  Bytes arp_request(const IpAddr& sip, const IpAddr& tip) {
    return arp_packet(1, MacAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, t_.a_mac, sip, MacAddr{}, tip);
  }

  // Checks a frame delivered to pod B: MACs rewritten, TTL one less with a
  // valid header checksum, everything after the TTL/checksum unchanged.
  void expect_delivered_v4(const Bytes& in, const RunResult& r) {
    ASSERT_EQ(r.verdict, kTcActRedirect);
    ASSERT_EQ(r.out.size(), in.size());
    EXPECT_EQ(mac_at(r.out, 0), t_.b_mac);
    EXPECT_EQ(mac_at(r.out, 6), t_.b_lxc_mac);
    EXPECT_EQ(r.out[kEth + 8], in[kEth + 8] - 1);
    EXPECT_EQ(ipv4_header_csum(&r.out[kEth], kIp4), 0) << "IPv4 header checksum invalid";
    EXPECT_TRUE(std::equal(in.begin() + kEth + kIp4, in.end(), r.out.begin() + kEth + kIp4));
  }
  void expect_delivered_v6(const Bytes& in, const RunResult& r) {
    ASSERT_EQ(r.verdict, kTcActRedirect);
    ASSERT_EQ(r.out.size(), in.size());
    EXPECT_EQ(mac_at(r.out, 0), t_.b_mac);
    EXPECT_EQ(mac_at(r.out, 6), t_.b_lxc_mac);
    EXPECT_EQ(r.out[kEth + 7], in[kEth + 7] - 1);
    EXPECT_TRUE(std::equal(in.begin() + kEth + 8, in.end(), r.out.begin() + kEth + 8));
  }

  // Checks an NA answering a solicitation for `target` sent from pod A's
  // `src` (eth source pod A's MAC).
  void expect_na(const RunResult& r, const IpAddr& target, const IpAddr& src) {
    ASSERT_EQ(r.verdict, kTcActRedirect);
    ASSERT_EQ(r.out.size(), 86u);
    const Bytes& o = r.out;
    EXPECT_EQ(mac_at(o, 0), t_.a_mac);
    EXPECT_EQ(mac_at(o, 6), t_.a_lxc_mac);
    EXPECT_EQ(be16(o, 12), 0x86dd);
    EXPECT_EQ(o[kEth] >> 4, 6);
    EXPECT_EQ(be16(o, kEth + 4), 32);  // payload length
    EXPECT_EQ(o[kEth + 6], 58);        // ICMPv6
    EXPECT_EQ(o[kEth + 7], 255);       // hop limit
    EXPECT_EQ(ip6_at(o, kEth + 8), target);
    EXPECT_EQ(ip6_at(o, kEth + 24), src);
    const size_t m = kEth + kIp6;
    EXPECT_EQ(o[m], 136);  // Neighbour Advertisement
    EXPECT_EQ(o[m + 1], 0);
    EXPECT_EQ(o[m + 4], 0xe0) << "flags must be Router|Solicited|Override";
    EXPECT_EQ(o[m + 5] | o[m + 6] | o[m + 7], 0);
    EXPECT_EQ(ip6_at(o, m + 8), target);
    EXPECT_EQ(o[m + 24], 2);  // target link-layer address option
    EXPECT_EQ(o[m + 25], 1);
    EXPECT_EQ(mac_at(o, m + 26), t_.a_lxc_mac);
    EXPECT_EQ(ipv6_l4_csum(ip6_at(o, kEth + 8), ip6_at(o, kEth + 24), 58, &o[m], 32), 0)
        << "ICMPv6 checksum invalid";
  }

  std::optional<datapath::LoadedProgram> prog_;
};

// --- ARP ---------------------------------------------------------------------

TEST_F(BpfLxcTest, ArpRequestForRouterGetsReplyWithLxcMac) {
  auto r = run(arp_request(t_.a4, t_.router4));
  ASSERT_EQ(r.verdict, kTcActRedirect);
  ASSERT_EQ(r.out.size(), 42u);
  EXPECT_EQ(mac_at(r.out, 0), t_.a_mac);
  EXPECT_EQ(mac_at(r.out, 6), t_.a_lxc_mac);
  EXPECT_EQ(be16(r.out, 12), 0x0806);
  EXPECT_EQ(be16(r.out, 14), 1);       // Ethernet
  EXPECT_EQ(be16(r.out, 16), 0x0800);  // IPv4
  EXPECT_EQ(r.out[18], 6);
  EXPECT_EQ(r.out[19], 4);
  EXPECT_EQ(be16(r.out, 20), 2);  // reply
  EXPECT_EQ(mac_at(r.out, 22), t_.a_lxc_mac);
  EXPECT_EQ(ip4_at(r.out, 28), t_.router4);
  EXPECT_EQ(mac_at(r.out, 32), t_.a_mac);
  EXPECT_EQ(ip4_at(r.out, 38), t_.a4);
}

TEST_F(BpfLxcTest, ArpRequestForAnyOtherAddressIsAnsweredToo) {
  for (const auto& target : {t_.b4, t_.world4, ip("10.233.64.99")}) {
    auto r = run(arp_request(t_.a4, target));
    ASSERT_EQ(r.verdict, kTcActRedirect) << target.str();
    EXPECT_EQ(mac_at(r.out, 22), t_.a_lxc_mac);
    EXPECT_EQ(ip4_at(r.out, 28), target);
  }
}

TEST_F(BpfLxcTest, ArpForOwnAddressProbesAndRepliesAreDropped) {
  EXPECT_EQ(run(arp_request(t_.a4, t_.a4)).verdict, kTcActShot) << "gratuitous ARP";
  EXPECT_EQ(run(arp_request(ip("0.0.0.0"), t_.router4)).verdict, kTcActShot) << "ARP probe";
  auto reply = arp_packet(2, t_.a_lxc_mac, t_.a_mac, t_.a4, t_.a_lxc_mac, t_.router4);
  EXPECT_EQ(run(reply).verdict, kTcActShot) << "ARP reply";
}

// --- IPv4 --------------------------------------------------------------------

TEST_F(BpfLxcTest, Ipv4IcmpToLocalPodIsRedirectedToPeer) {
  auto in = v4(t_.a4, t_.b4, 1, icmp4_echo(7, 1));
  expect_delivered_v4(in, run(in));
}

TEST_F(BpfLxcTest, Ipv4TcpAndUdpToLocalPodAreRedirected) {
  auto tcp = v4(t_.a4, t_.b4, 6, tcp_syn(t_.a4, t_.b4, 40000, 80));
  expect_delivered_v4(tcp, run(tcp));
  auto udp = v4(t_.a4, t_.b4, 17, udp_dgram(t_.a4, t_.b4, 40000, 53, "hello"), 17);
  expect_delivered_v4(udp, run(udp));
}

TEST_F(BpfLxcTest, Ipv4ChecksumStaysValidForEveryTtl) {
  for (int ttl = 2; ttl <= 255; ttl += 31) {
    auto in = v4(t_.a4, t_.b4, 17, udp_dgram(t_.a4, t_.b4, 1, 2, "x"), static_cast<uint8_t>(ttl));
    expect_delivered_v4(in, run(in));
  }
}

TEST_F(BpfLxcTest, Ipv4TtlExhaustedIsDropped) {
  EXPECT_EQ(run(v4(t_.a4, t_.b4, 1, icmp4_echo(1, 1), 1)).verdict, kTcActShot);
  EXPECT_EQ(run(v4(t_.a4, t_.b4, 1, icmp4_echo(1, 1), 0)).verdict, kTcActShot);
}

TEST_F(BpfLxcTest, Ipv4SpoofedSourceIsDropped) {
  EXPECT_EQ(run(v4(t_.b4, t_.router4, 1, icmp4_echo(1, 1))).verdict, kTcActShot);
  EXPECT_EQ(run(v4(ip("10.233.64.11"), t_.b4, 6, tcp_syn(t_.b4, t_.b4, 1, 2))).verdict, kTcActShot);
  EXPECT_EQ(run(v4(ip("0.0.0.0"), t_.world4, 17, udp_dgram(t_.a4, t_.b4, 68, 67, ""))).verdict,
            kTcActShot);
}

TEST_F(BpfLxcTest, Ipv4ToHostOrUnknownGoesToStackUnchanged) {
  for (const auto& dst : {t_.router4, t_.world4, ip("10.233.64.99")}) {
    auto in = v4(t_.a4, dst, 1, icmp4_echo(1, 1));
    auto r = run(in);
    EXPECT_EQ(r.verdict, kTcActOk) << dst.str();
    EXPECT_EQ(r.out, in) << dst.str();
  }
}

TEST_F(BpfLxcTest, Ipv4RemovedEndpointIsNoLongerRedirected) {
  ASSERT_TRUE(eps_->remove(t_.b4));
  EXPECT_EQ(run(v4(t_.a4, t_.b4, 1, icmp4_echo(1, 1))).verdict, kTcActOk);
}

// --- IPv6 --------------------------------------------------------------------

TEST_F(BpfLxcTest, Ipv6IcmpTcpUdpToLocalPodAreRedirectedToPeer) {
  auto icmp = v6(t_.a6, t_.b6, 58, icmp6_echo(t_.a6, t_.b6, 3, 1));
  expect_delivered_v6(icmp, run(icmp));
  auto tcp = v6(t_.a6, t_.b6, 6, tcp_syn(t_.a6, t_.b6, 40000, 443));
  expect_delivered_v6(tcp, run(tcp));
  auto udp = v6(t_.a6, t_.b6, 17, udp_dgram(t_.a6, t_.b6, 40000, 53, "hello"), 2);
  expect_delivered_v6(udp, run(udp));
}

TEST_F(BpfLxcTest, Ipv6HopLimitExhaustedIsDropped) {
  EXPECT_EQ(run(v6(t_.a6, t_.b6, 58, icmp6_echo(t_.a6, t_.b6, 1, 1), 1)).verdict, kTcActShot);
}

TEST_F(BpfLxcTest, Ipv6SpoofedSourceIsDropped) {
  EXPECT_EQ(run(v6(t_.b6, t_.router6, 58, icmp6_echo(t_.b6, t_.router6, 1, 1))).verdict,
            kTcActShot);
  EXPECT_EQ(run(v6(ip("fd00:cafe::11"), t_.b6, 17, udp_dgram(t_.a6, t_.b6, 1, 2, ""))).verdict,
            kTcActShot);
}

TEST_F(BpfLxcTest, Ipv6ToHostOrUnknownGoesToStackUnchanged) {
  for (const auto& dst : {t_.router6, t_.world6}) {
    auto in = v6(t_.a6, dst, 58, icmp6_echo(t_.a6, dst, 1, 1));
    auto r = run(in);
    EXPECT_EQ(r.verdict, kTcActOk) << dst.str();
    EXPECT_EQ(r.out, in) << dst.str();
  }
}

TEST_F(BpfLxcTest, Ipv6LinkScopeControlTrafficPassesToStack) {
  // Router solicitation from the link-local address, MLDv2 report from ::.
  Bytes rs = {133, 0, 0, 0, 0, 0, 0, 0};
  auto all_routers = ip("ff02::2");
  EXPECT_EQ(run(v6(t_.a_ll, all_routers, 58, rs, 255)).verdict, kTcActOk);
  Bytes mld = {143, 0, 0, 0, 0, 0, 0, 0};
  EXPECT_EQ(run(v6(ip("::"), ip("ff02::16"), 58, mld, 1)).verdict, kTcActOk);
  // A link-local source is never delivered to another pod directly.
  EXPECT_EQ(run(v6(t_.a_ll, t_.b6, 58, icmp6_echo(t_.a_ll, t_.b6, 1, 1))).verdict, kTcActOk);
}

// --- IPv6 neighbour discovery ---------------------------------------------------

TEST_F(BpfLxcTest, NeighbourSolicitationForRouterGetsAdvertisement) {
  auto sn = solicited_node(t_.router6);
  auto r = run(ipv6_ns(ipv6_mcast_mac(sn), t_.a_mac, t_.a6, sn, t_.router6, true));
  expect_na(r, t_.router6, t_.a6);
}

TEST_F(BpfLxcTest, UnicastSolicitationFromLinkLocalWithoutOptionIsAnswered) {
  // 78-byte solicitation (no source link-layer option): the NA is longer.
  auto in = ipv6_ns(t_.a_lxc_mac, t_.a_mac, t_.a_ll, t_.router6, t_.router6, false);
  ASSERT_EQ(in.size(), 78u);
  expect_na(run(in), t_.router6, t_.a_ll);
}

TEST_F(BpfLxcTest, SolicitationWithExtraOptionsIsTrimmedToAdvertisement) {
  Bytes nonce = {14, 1, 1, 2, 3, 4, 5, 6};
  auto sn = solicited_node(t_.b6);
  auto in = ipv6_ns(ipv6_mcast_mac(sn), t_.a_mac, t_.a6, sn, t_.b6, true, nonce);
  ASSERT_EQ(in.size(), 94u);
  expect_na(run(in), t_.b6, t_.a6);
}

TEST_F(BpfLxcTest, InvalidOrForeignSolicitationsAreNotAnswered) {
  auto sn = solicited_node(t_.router6);
  auto mc = ipv6_mcast_mac(sn);
  // Duplicate address detection (unspecified source): answering would
  // make the pod's DAD fail.
  EXPECT_EQ(run(ipv6_ns(mc, t_.a_mac, ip("::"), solicited_node(t_.a_ll), t_.a_ll, false)).verdict,
            kTcActShot);
  EXPECT_EQ(run(ipv6_ns(mc, t_.a_mac, ip("::"), sn, t_.router6, false)).verdict, kTcActShot);
  // The pod's own address.
  EXPECT_EQ(run(ipv6_ns(mc, t_.a_mac, t_.a6, solicited_node(t_.a6), t_.a6, true)).verdict,
            kTcActShot);
  // Not sent on-link (hop limit != 255).
  EXPECT_EQ(run(ipv6_ns(mc, t_.a_mac, t_.a6, sn, t_.router6, true, {}, 64)).verdict, kTcActShot);
  // Spoofed global source.
  EXPECT_EQ(run(ipv6_ns(mc, t_.a_mac, t_.b6, sn, t_.router6, true)).verdict, kTcActShot);
  // Multicast target.
  EXPECT_EQ(run(ipv6_ns(mc, t_.a_mac, t_.a6, sn, ip("ff02::1"), true)).verdict, kTcActShot);
}

// --- families and other protocols ---------------------------------------------

TEST_F(BpfLxcTest, UnknownEthertypeIsDropped) {
  Bytes lldp = eth_hdr(MacAddr{0x01, 0x80, 0xc2, 0, 0, 0x0e}, t_.a_mac, 0x88cc);
  lldp.resize(60, 0);
  EXPECT_EQ(run(lldp).verdict, kTcActShot);
}

TEST_F(BpfLxcTest, DisabledIpv6DropsIpv6AndKeepsIpv4) {
  load(t_.node(true, false));
  EXPECT_EQ(run(v6(t_.a6, t_.b6, 58, icmp6_echo(t_.a6, t_.b6, 1, 1))).verdict, kTcActShot);
  auto sn = solicited_node(t_.router6);
  EXPECT_EQ(run(ipv6_ns(ipv6_mcast_mac(sn), t_.a_mac, t_.a6, sn, t_.router6, true)).verdict,
            kTcActShot);
  auto in = v4(t_.a4, t_.b4, 1, icmp4_echo(1, 1));
  expect_delivered_v4(in, run(in));
}

TEST_F(BpfLxcTest, DisabledIpv4DropsIpv4AndArpAndKeepsIpv6) {
  load(t_.node(false, true));
  EXPECT_EQ(run(v4(t_.a4, t_.b4, 1, icmp4_echo(1, 1))).verdict, kTcActShot);
  EXPECT_EQ(run(arp_request(t_.a4, t_.router4)).verdict, kTcActShot);
  auto in = v6(t_.a6, t_.b6, 58, icmp6_echo(t_.a6, t_.b6, 1, 1));
  expect_delivered_v6(in, run(in));
}

TEST_F(BpfLxcTest, EndpointWithoutIpv4SendsNoIpv4) {
  auto ep = t_.pod_a();
  ep.ipv4.reset();
  prog_.reset();
  prog_.emplace(datapath::load_lxc_object(pin_.path(), t_.node(), ep, t_.a_ifindex));
  EXPECT_EQ(run(v4(ip("0.0.0.0"), t_.b4, 1, icmp4_echo(1, 1))).verdict, kTcActShot);
  EXPECT_EQ(run(v4(t_.a4, t_.b4, 1, icmp4_echo(1, 1))).verdict, kTcActShot);
}

}  // namespace
}  // namespace cpp::bpftest
